namespace FanVote.Workflows;

public sealed record CompleteWindowInput(string WindowId, string Digest);

public sealed record CompleteWindowOutput(DateTimeOffset CompletedAt);

/// <summary>Publishes WindowCompleted (idempotent): certified and paid, nothing left to do.</summary>
public sealed class CompleteWindowActivity(IWindowAnnouncements announcements, TimeProvider time)
{
    public async Task<ActivityResult<CompleteWindowOutput>> RunAsync(CompleteWindowInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = time.GetUtcNow();
        await announcements.CompletedAsync(input.WindowId, input.Digest, now, cancellationToken);
        return ActivityResult.Finished(new CompleteWindowOutput(now));
    }
}
