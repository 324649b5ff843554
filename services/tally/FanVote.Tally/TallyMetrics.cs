using System.Diagnostics.Metrics;

namespace FanVote.Tally;

/// <summary>The `FanVote.Tally` meter: batches, write latency, rows, duplicates, dead letters, snapshots.</summary>
public sealed class TallyMetrics : IDisposable
{
    private readonly Meter _meter = new("FanVote.Tally");

    public TallyMetrics()
    {
        BatchSize = _meter.CreateHistogram<int>("fanvote.tally.batch_size", unit: "{vote}", description: "Votes per delivered batch");
        WriteLatency = _meter.CreateHistogram<double>("fanvote.tally.write_latency", unit: "ms", description: "COPY + insert + counts, one transaction");
        Inserted = _meter.CreateCounter<long>("fanvote.tally.votes_inserted", unit: "{vote}");
        Duplicates = _meter.CreateCounter<long>("fanvote.tally.votes_duplicate", unit: "{vote}", description: "Redelivered votes the ledger already had");
        Quarantined = _meter.CreateCounter<long>("fanvote.tally.votes_quarantined", unit: "{vote}", description: "Votes kept but never counted: no valid seal, outside the window, not a candidate, after the audit");
        Retried = _meter.CreateCounter<long>("fanvote.tally.batches_retried", unit: "{batch}");
        Snapshots = _meter.CreateCounter<long>("fanvote.tally.snapshots_published", unit: "{snapshot}");
        Flags = _meter.CreateCounter<long>("fanvote.tally.flags_stored", unit: "{vote}", description: "Fraud-flagged votes newly stored");
        Audits = _meter.CreateCounter<long>("fanvote.tally.audits", unit: "{window}");
        MinimizedVotes = _meter.CreateCounter<long>("fanvote.tally.votes_minimized", unit: "{vote}", description: "Votes whose IP became a prefix and device id a keyed hash (retention)");
    }

    public Histogram<int> BatchSize { get; }

    public Histogram<double> WriteLatency { get; }

    public Counter<long> Inserted { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> Quarantined { get; }

    public Counter<long> Retried { get; }

    public Counter<long> Snapshots { get; }

    public Counter<long> Flags { get; }

    public Counter<long> Audits { get; }

    public Counter<long> MinimizedVotes { get; }

    public void Dispose() => _meter.Dispose();
}
