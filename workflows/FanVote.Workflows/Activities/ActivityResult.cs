namespace FanVote.Workflows;

/// <summary>
/// What an activity did: finished with <typeparamref name="T"/>, or has to wait (for a time or a report) and run
/// again. A failure is an exception; the workflow retries it with backoff.
/// </summary>
public sealed record ActivityResult<T>(T? Output, string? Waiting, DateTimeOffset RetryAt)
    where T : class
{
    public bool Done => Output is not null;
}

public static class ActivityResult
{
    public static ActivityResult<T> Finished<T>(T output)
        where T : class => new(output, null, default);

    public static ActivityResult<T> WaitUntil<T>(string reason, DateTimeOffset at)
        where T : class => new(null, reason, at);
}
