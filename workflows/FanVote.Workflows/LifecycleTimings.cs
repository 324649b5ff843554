namespace FanVote.Workflows;

/// <summary>
/// How long the lifecycle waits and how often it asks. The defaults suit production; tests shorten them.
/// </summary>
public sealed record LifecycleTimings
{
    /// <summary>
    /// After the close, how long ingress's accepted count may still rise: a vote admitted just before the close may
    /// still be in its publish (ingress waits up to its AckTimeout, 5 s) or be retried by a fan after a 503. Only
    /// counts taken after close + this are final. Covers ingress's ack timeout plus a client's quick retries.
    /// </summary>
    public TimeSpan AcceptSettle { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After the drain, how long the audit waits for fraud flags still in flight (the fraud service scores off the
    /// vote path, seconds behind). Flags that arrive later are stored but not applied to the certified result.
    /// </summary>
    public TimeSpan FlagGrace { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>First wait before asking a service again; it doubles per attempt up to <see cref="PollMax"/>.</summary>
    public TimeSpan PollInitial { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan PollMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait after repeated failures of a step.</summary>
    public TimeSpan FailureBackoffMax { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan Poll(int attempt) => Exponential(PollInitial, attempt, PollMax);

    public TimeSpan Backoff(int failures) => Exponential(PollInitial, failures, FailureBackoffMax);

    /// <summary><paramref name="first"/> doubled <paramref name="n"/> - 1 times, at most <paramref name="max"/> (every wait between asks of the workflows).</summary>
    public static TimeSpan Exponential(TimeSpan first, int n, TimeSpan max)
    {
        var factor = Math.Pow(2, Math.Clamp(n - 1, 0, 30));
        var ticks = first.Ticks * factor;
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }
}
