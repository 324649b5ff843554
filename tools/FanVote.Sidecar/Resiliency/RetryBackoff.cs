using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.Resiliency;

/// <summary>
/// The delays of daprd's retry policies (dapr/kit retry on cenkalti/backoff): constant = <c>duration</c> every
/// time; exponential = 500 ms initial interval, ×1.5 per attempt, capped at <c>maxInterval</c>, ±50 % jitter,
/// and no retry once 15 minutes have elapsed since the first attempt.
/// </summary>
public static class RetryBackoff
{
    public static readonly TimeSpan ExponentialInitialInterval = TimeSpan.FromMilliseconds(500);

    public const double ExponentialMultiplier = 1.5;

    public const double RandomizationFactor = 0.5;

    public static readonly TimeSpan ExponentialMaxElapsed = TimeSpan.FromMinutes(15);

    /// <summary>The un-jittered interval before retry number <paramref name="retry"/> (0 = the first retry).</summary>
    public static TimeSpan BaseInterval(RetryPolicySpec policy, int retry)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Policy != "exponential")
        {
            return policy.Duration;
        }

        var max = policy.MaxInterval.TotalMilliseconds;
        var ms = ExponentialInitialInterval.TotalMilliseconds;
        for (var i = 0; i < retry && ms < max; i++)
        {
            // cenkalti: once the next step would pass the cap, the interval becomes the cap.
            ms = ms >= max / ExponentialMultiplier ? max : ms * ExponentialMultiplier;
        }

        return TimeSpan.FromMilliseconds(Math.Min(ms, max));
    }

    /// <summary>The actual delay: <see cref="BaseInterval"/> with jitter for exponential; <paramref name="random01"/> in [0, 1).</summary>
    public static TimeSpan Delay(RetryPolicySpec policy, int retry, double random01)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var interval = BaseInterval(policy, retry);
        if (policy.Policy != "exponential")
        {
            return interval;
        }

        var ms = interval.TotalMilliseconds;
        var delta = RandomizationFactor * ms;
        return TimeSpan.FromMilliseconds(ms - delta + (random01 * 2 * delta));
    }

    /// <summary>Whether another retry is allowed after <paramref name="retriesDone"/> retries and <paramref name="elapsed"/> time.</summary>
    public static bool CanRetry(RetryPolicySpec policy, int retriesDone, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.MaxRetries >= 0 && retriesDone >= policy.MaxRetries)
        {
            return false;
        }

        return policy.Policy != "exponential" || elapsed < ExponentialMaxElapsed;
    }
}
