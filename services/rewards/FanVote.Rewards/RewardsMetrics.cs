using System.Diagnostics.Metrics;

namespace FanVote.Rewards;

/// <summary>The `FanVote.Rewards` meter: payouts, entries appended, points credited.</summary>
public sealed class RewardsMetrics : IDisposable
{
    private readonly Meter _meter = new("FanVote.Rewards");

    public RewardsMetrics()
    {
        Payouts = _meter.CreateCounter<long>("fanvote.rewards.payouts", unit: "{window}");
        Entries = _meter.CreateCounter<long>("fanvote.rewards.entries", unit: "{entry}", description: "Ledger entries appended");
        Points = _meter.CreateCounter<long>("fanvote.rewards.points_credited", unit: "{point}");
        Spins = _meter.CreateCounter<long>("fanvote.rewards.spins", unit: "{spin}", description: "Spins: outcome spun, or refused with the reason");
        SpinPoints = _meter.CreateCounter<long>("fanvote.rewards.spin_points", unit: "{point}", description: "Points spins took (direction in) and paid (out)");
    }

    public Counter<long> Spins { get; }

    public Counter<long> SpinPoints { get; }

    public void Spun(long cost, long prize)
    {
        Spins.Add(1, new KeyValuePair<string, object?>("outcome", "spun"));
        SpinPoints.Add(cost, new KeyValuePair<string, object?>("direction", "in"));
        SpinPoints.Add(prize, new KeyValuePair<string, object?>("direction", "out"));
    }

    public void SpinRefused(Adapters.SpinRefusal why) =>
        Spins.Add(1, new KeyValuePair<string, object?>("outcome", why switch
        {
            Adapters.SpinRefusal.UnknownWheel => "unknown-wheel",
            Adapters.SpinRefusal.NotOpenYet => "not-open",
            Adapters.SpinRefusal.Closed => "closed",
            Adapters.SpinRefusal.NotEnoughPoints => "not-enough-points",
            _ => "key-reused",
        }));

    public Counter<long> Payouts { get; }

    public Counter<long> Entries { get; }

    public Counter<long> Points { get; }

    public void Dispose() => _meter.Dispose();
}
