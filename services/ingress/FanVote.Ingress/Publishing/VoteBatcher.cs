using System.Diagnostics;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress.Core;
using FanVote.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace FanVote.Ingress.Publishing;

/// <summary>
/// Group commit to the broker: votes from many requests go out in one bulk publish (<see cref="GroupCommit{T}"/>:
/// batches grow by themselves while earlier ones are in flight), the acknowledged ones are marked committed in
/// one Redis call, and only then is each request released. A failed entry, call or commit fails just those
/// requests (503; a retry with the same Idempotency-Key republishes the same vote id, which counts once).
/// When tracing is on, the publish runs in a "publish votes" span that continues the requests' traces, and the
/// sidecar puts its context into every vote's CloudEvent.
/// </summary>
public sealed class VoteBatcher : BackgroundService, IVotePublisher
{
    private readonly GroupCommit<Pending> _queue;
    private readonly DaprClient _dapr;
    private readonly IAdmissionStore _admission;
    private readonly IngressOptions _options;
    private readonly IngressMetrics _metrics;
    private readonly ILogger<VoteBatcher> _log;
    private readonly string _topic;

    public VoteBatcher(DaprClient dapr, IAdmissionStore admission, IOptions<IngressOptions> options, IngressMetrics metrics, ILogger<VoteBatcher> log)
        : this(dapr, admission, options, metrics, log, Topics.Votes)
    {
    }

    /// <summary>A batcher publishing to <paramref name="topic"/> (the warm-up's, which the sidecar refuses).</summary>
    internal VoteBatcher(DaprClient dapr, IAdmissionStore admission, IOptions<IngressOptions> options, IngressMetrics metrics, ILogger<VoteBatcher> log, string topic)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _topic = topic;
        _dapr = dapr;
        _admission = admission;
        _options = options.Value;
        _metrics = metrics;
        _log = log;
        _queue = new GroupCommit<Pending>(_options.MaxQueue, _options.MaxBatch, SendAsync);
        metrics.ObserveQueue(() => _queue.Count);
    }

    /// <summary>
    /// True once the broker acknowledged the vote and it is marked committed; false when that did not happen
    /// within <see cref="IngressOptions.AckTimeout"/> (or the queue is full).
    /// </summary>
    public Task<bool> PublishAsync(VoteAccepted vote, VoteCommit commit)
    {
        var pending = new Pending(vote, commit, Stopwatch.GetTimestamp(), Activity.Current?.Context ?? default);
        return _queue.TryEnqueue(pending) ? pending.Done.Task : Task.FromResult(false);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _queue.RunAsync(_options.Publishers, stoppingToken);

    private async Task SendAsync(List<Pending> batch, CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();

        // A vote that already waited out the ack timeout in the queue gets its 503 now instead of being sent late.
        var live = new List<Pending>(batch.Count);
        foreach (var p in batch)
        {
            if (Stopwatch.GetElapsedTime(p.Queued, started) > _options.AckTimeout)
            {
                p.Done.TrySetResult(false);
            }
            else
            {
                live.Add(p);
            }
        }

        if (live.Count == 0)
        {
            return;
        }

        using var span = FanVoteTracing.IsOn ? StartPublishSpan(live, _topic) : null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_options.AckTimeout);
        try
        {
            var events = new List<VoteAccepted>(live.Count);
            foreach (var p in live)
            {
                events.Add(p.Vote);
            }

            var response = await _dapr.BulkPublishEventAsync(ComponentNames.VoteBus, _topic, events, cancellationToken: timeout.Token);
            var failed = response.FailedEntries.Count == 0
                ? null
                : response.FailedEntries.Select(f => f.Entry.EventData).ToHashSet(ReferenceEqualityComparer.Instance);
            var stored = failed is null ? live : live.FindAll(p => !failed.Contains(p.Vote));
            if (failed is not null)
            {
                // The sidecar says these did not go through; they count as unconfirmed all the same (a broker may
                // have taken an entry whose answer was lost), which only lets the audit explain them if they landed.
                await MarkUnconfirmedAsync(live.FindAll(p => failed.Contains(p.Vote)), stop);
                foreach (var p in live.Where(p => failed.Contains(p.Vote)))
                {
                    p.Done.TrySetResult(false);
                }
            }

            await _admission.CommitAsync([.. stored.Select(p => p.Commit)], timeout.Token);
            foreach (var p in stored)
            {
                p.Done.TrySetResult(true);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            IngressLog.PublishFailed(_log, e, live.Count);
            await MarkUnconfirmedAsync(live.FindAll(p => !p.Done.Task.IsCompleted), stop);
            foreach (var p in live)
            {
                p.Done.TrySetResult(false);
            }
        }

        _metrics.BatchSize.Record(live.Count);
        _metrics.PublishLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static Activity? StartPublishSpan(List<Pending> batch, string topic)
    {
        var traces = new List<ActivityContext>(Math.Min(batch.Count, FanVoteTracing.MaxLinks + 1));
        foreach (var p in batch)
        {
            if (p.Trace != default)
            {
                traces.Add(p.Trace);
                if (traces.Count > FanVoteTracing.MaxLinks)
                {
                    break;
                }
            }
        }

        var span = FanVoteTracing.StartForMany("publish " + topic, ActivityKind.Producer, traces);
        span?.SetTag("messaging.destination.name", topic);
        span?.SetTag("messaging.batch.message_count", batch.Count);
        return span;
    }

    /// <summary>
    /// Before their 503: the votes of a batch that reached the publish call without a confirmation are recorded as
    /// unconfirmed (a failure here is logged; the audit will then refuse to explain such a vote, never count it silently).
    /// </summary>
    private async Task MarkUnconfirmedAsync(List<Pending> votes, CancellationToken stop)
    {
        if (votes.Count == 0)
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(_options.AckTimeout);
            await _admission.MarkUnconfirmedAsync([.. votes.Select(p => (p.Vote.WindowId, p.Vote.VoteId))], timeout.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            IngressLog.UnconfirmedNotRecorded(_log, e, votes.Count);
        }
    }

    private sealed class Pending(VoteAccepted vote, VoteCommit commit, long queued, ActivityContext trace)
    {
        /// <summary>The trace of the request that cast the vote (default when tracing is off).</summary>
        public ActivityContext Trace { get; } = trace;

        public VoteAccepted Vote { get; } = vote;

        public VoteCommit Commit { get; } = commit;

        public long Queued { get; } = queued;

        // Continuations (writing each 202) run inline on the batch's thread instead of a thread-pool hop per vote.
        public TaskCompletionSource<bool> Done { get; } = new();
    }
}
