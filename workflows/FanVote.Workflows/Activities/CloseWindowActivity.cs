namespace FanVote.Workflows;

public sealed record CloseWindowInput(WindowDefinition Definition);

public sealed record CloseWindowOutput(DateTimeOffset ClosedAt);

/// <summary>Closes the window at its time: publishes WindowClosed (idempotent). Ingress refuses new votes by its own clock.</summary>
public sealed class CloseWindowActivity(IWindowAnnouncements announcements, TimeProvider time)
{
    public async Task<ActivityResult<CloseWindowOutput>> RunAsync(CloseWindowInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = time.GetUtcNow();
        if (now < input.Definition.ClosesAt)
        {
            return ActivityResult.WaitUntil<CloseWindowOutput>($"closes at {input.Definition.ClosesAt:u}", input.Definition.ClosesAt);
        }

        await announcements.ClosedAsync(input.Definition.WindowId, now, cancellationToken);
        return ActivityResult.Finished(new CloseWindowOutput(now));
    }
}
