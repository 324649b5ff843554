using System.Diagnostics.Metrics;

namespace FanVote.Fraud;

/// <summary>
/// The `FanVote.Fraud` meter: votes scored, suspect votes, verdicts and flagged votes per reason and action, scoring
/// latency, the model version in use, model loads, and the outbox.
/// </summary>
public sealed class FraudMetrics : IDisposable
{
    private readonly Meter _meter = new("FanVote.Fraud");
    private string _modelVersion = "none";

    public FraudMetrics()
    {
        Scored = _meter.CreateCounter<long>("fanvote.fraud.votes_scored", unit: "{vote}");
        Duplicates = _meter.CreateCounter<long>("fanvote.fraud.votes_duplicate", unit: "{vote}", description: "Redelivered votes already scored");
        Suspect = _meter.CreateCounter<long>("fanvote.fraud.votes_suspect", unit: "{vote}", description: "Votes at or above the model's threshold");
        Verdicts = _meter.CreateCounter<long>("fanvote.fraud.verdicts", unit: "{verdict}", description: "Verdicts issued, tagged with action and first reason");
        Flagged = _meter.CreateCounter<long>("fanvote.fraud.votes_flagged", unit: "{vote}", description: "Votes flagged for the audit, tagged with first reason");
        BatchLatency = _meter.CreateHistogram<double>("fanvote.fraud.scoring_latency", unit: "ms", description: "Features + model + decisions for one delivered batch");
        VoteLatency = _meter.CreateHistogram<double>("fanvote.fraud.scoring_latency_per_vote", unit: "us", description: "Batch latency divided by its votes");
        ModelLoads = _meter.CreateCounter<long>("fanvote.fraud.model_loads", unit: "{load}", description: "Model loads, tagged with version and outcome");
        FutureClamped = _meter.CreateCounter<long>("fanvote.fraud.votes_time_clamped", unit: "{vote}", description: "Votes stamped further ahead of the clock than the allowed skew, scored at now + skew");
        Undeliverable = _meter.CreateCounter<long>("fanvote.fraud.outbox_dropped", unit: "{event}", description: "Flags dropped because the outbox was full");
        _meter.CreateObservableGauge("fanvote.fraud.model_version", () => new Measurement<int>(1, new KeyValuePair<string, object?>("version", _modelVersion)),
            description: "1, tagged with the model version in use");
    }

    public Counter<long> Scored { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> Suspect { get; }

    public Counter<long> Verdicts { get; }

    public Counter<long> Flagged { get; }

    public Histogram<double> BatchLatency { get; }

    public Histogram<double> VoteLatency { get; }

    public Counter<long> ModelLoads { get; }

    public Counter<long> Undeliverable { get; }

    public Counter<long> FutureClamped { get; }

    public void ObserveTracked(Func<(int Accounts, int Devices, int Prefixes)> tracked) =>
        _meter.CreateObservableGauge("fanvote.fraud.subjects_tracked", () =>
        {
            var (accounts, devices, prefixes) = tracked();
            return new[]
            {
                new Measurement<int>(accounts, new KeyValuePair<string, object?>("kind", "account")),
                new Measurement<int>(devices, new KeyValuePair<string, object?>("kind", "device")),
                new Measurement<int>(prefixes, new KeyValuePair<string, object?>("kind", "ip-prefix")),
            };
        }, unit: "{subject}", description: "Subjects whose velocity is tracked, per kind (bounded by MaxSubjectsPerKind)");

    public void ObserveOutbox(Func<int> depth) =>
        _meter.CreateObservableGauge("fanvote.fraud.outbox_depth", depth, unit: "{event}", description: "Verdicts and flags waiting for the broker");

    public void ModelInUse(string version) => _modelVersion = version;

    public void Dispose() => _meter.Dispose();
}
