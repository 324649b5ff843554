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
    }

    public Counter<long> Payouts { get; }

    public Counter<long> Entries { get; }

    public Counter<long> Points { get; }

    public void Dispose() => _meter.Dispose();
}
