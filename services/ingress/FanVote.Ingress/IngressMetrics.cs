using System.Diagnostics.Metrics;

namespace FanVote.Ingress;

/// <summary>The `FanVote.Ingress` meter: votes accepted and refused per reason, queue depth, batches, broker latency.</summary>
public sealed class IngressMetrics : IDisposable
{
    /// <summary>The meter's name (exported: the OpenTelemetry setup takes every "FanVote.*" meter).</summary>
    public const string MeterName = "FanVote.Ingress";

    private readonly Meter _meter;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _reasons = new(StringComparer.Ordinal);

    public IngressMetrics()
        : this(MeterName)
    {
    }

    /// <summary>Instruments on a meter named <paramref name="meterName"/>: the warm-up's own, outside "FanVote.*", is never exported.</summary>
    internal IngressMetrics(string meterName)
    {
        _meter = new Meter(meterName);
        Accepted = _meter.CreateCounter<long>("fanvote.ingress.votes_accepted", unit: "{vote}");
        Refused = _meter.CreateCounter<long>("fanvote.ingress.votes_refused", unit: "{vote}", description: "Votes refused, tagged with reason");
        BatchSize = _meter.CreateHistogram<int>("fanvote.ingress.batch_size", unit: "{vote}");
        PublishLatency = _meter.CreateHistogram<double>("fanvote.ingress.publish_latency", unit: "ms", description: "Bulk publish until broker acknowledgement");
        Challenges = _meter.CreateCounter<long>("fanvote.ingress.challenges", unit: "{challenge}", description: "Risk challenges shown, passed and failed, tagged with outcome and first reason");
    }

    public Counter<long> Challenges { get; }

    /// <summary>Counts a challenge outcome, tagged with the verdict's first reason code (a bounded set: see <see cref="ReasonTag"/>).</summary>
    public void Challenge(string outcome, string? reason) =>
        Challenges.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", ReasonTag(reason)));

    /// <summary>
    /// A reason code as a metric tag: lower-case letters, digits and '-', at most 40 characters, and at most 64 distinct
    /// values per process ("other" beyond): a tag value is a time series, so what comes in an event must not mint them.
    /// </summary>
    public string ReasonTag(string? reason)
    {
        if (reason is not { Length: > 0 and <= 40 } || !reason.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            return "unknown";
        }

        return _reasons.ContainsKey(reason) || (_reasons.Count < 64 && _reasons.TryAdd(reason, 0)) ? reason : "other";
    }

    public Counter<long> Accepted { get; }

    public Counter<long> Refused { get; }

    public Histogram<int> BatchSize { get; }

    public Histogram<double> PublishLatency { get; }

    public void ObserveQueue(Func<int> depth) =>
        _meter.CreateObservableGauge("fanvote.ingress.queue_depth", depth, unit: "{vote}", description: "Votes waiting for the broker");

    public void Refuse(string reason) => Refused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
