namespace FanVote.Fraud.Core.Tests;

/// <summary>Builds votes at exact times (ms from a fixed origin) so every expected feature value can be worked out by hand.</summary>
internal static class Votes
{
    public const long T0 = 1_780_000_020_000; // on a whole minute, so bucket edges fall on round numbers of seconds
    public const long Day = 86_400_000;

    public static VoteInput At(long ms, string account = "a1", string device = "d1", string ip = "203.0.113.7", string candidate = "c1", long ageMs = 400 * Day, string window = "w") =>
        new(Guid.NewGuid(), window, candidate, account, device, ip, T0 + ms, T0 + ms - ageMs);

    public static float[] Extract(this VelocityFeatures x, VoteInput v)
    {
        var f = new float[FeatureSchema.Count];
        x.Extract(v, f);
        return f;
    }
}
