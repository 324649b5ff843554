namespace FanVote.Workflows;

public sealed record OpenWindowInput(WindowDefinition Definition);

public sealed record OpenWindowOutput(DateTimeOffset OpenedAt);

/// <summary>Opens the window at its time: publishes WindowOpened (idempotent: same event id every time).</summary>
public sealed class OpenWindowActivity(IWindowAnnouncements announcements, TimeProvider time)
{
    public async Task<ActivityResult<OpenWindowOutput>> RunAsync(OpenWindowInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = time.GetUtcNow();
        if (now < input.Definition.OpensAt)
        {
            // Fired early (clock skew between hosts): ask again at the scheduled time.
            return ActivityResult.WaitUntil<OpenWindowOutput>($"opens at {input.Definition.OpensAt:u}", input.Definition.OpensAt);
        }

        await announcements.OpenedAsync(input.Definition, now, cancellationToken);
        return ActivityResult.Finished(new OpenWindowOutput(now));
    }
}
