using System.Diagnostics;
using System.Threading.Channels;
using FanVote.Fraud.Core;
using FanVote.Fraud.Publishing;
using Microsoft.Extensions.Options;

namespace FanVote.Fraud.Scoring;

/// <summary>
/// The one loop that owns the sliding-window state: batches from the subscription queue up here and are processed one
/// after another (features, score, decisions), so the state needs no locks and the live stream is processed exactly
/// as the trainer replays a CSV. A batch is acknowledged once its verdicts and flags are in the outbox.
/// </summary>
public sealed class FraudPipeline : BackgroundService
{
    private readonly Channel<Work> _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(64) { SingleReader = true });
    private readonly VelocityFeatures _features;
    private readonly RiskDecisions _decisions;
    private readonly RecentVoteIds _seen;
    private readonly ModelWatcher _models;
    private readonly RiskOutbox _outbox;
    private readonly FraudMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly long _maxAheadMs;
    private readonly RiskOutput _output = new();
    private (int Accounts, int Devices, int Prefixes) _tracked;
    private float[] _buffer = new float[FeatureSchema.Count * 512];

    public FraudPipeline(IOptions<FraudOptions> options, ModelWatcher models, RiskOutbox outbox, FraudMetrics metrics, TimeProvider time)
    {
        var o = options.Value;
        _features = new VelocityFeatures(new FeatureOptions { MaxSubjectsPerKind = o.MaxSubjectsPerKind, GroupSketchWidth = o.GroupSketchWidth });
        _decisions = new RiskDecisions(new RiskPolicy
        {
            MinSuspectVotes = o.MinSuspectVotes,
            SuspectWindow = o.SuspectWindow,
            VerdictLifetime = o.VerdictLifetime,
            InFlightGrace = o.InFlightGrace,
            ReissueAfter = o.ReissueAfter,
            BlockFromVerdict = o.BlockFromVerdict,
        });
        _seen = new RecentVoteIds(o.RememberVotes);
        _models = models;
        _outbox = outbox;
        _metrics = metrics;
        _time = time;
        _maxAheadMs = (long)o.MaxClockSkew.TotalMilliseconds;
        metrics.ObserveTracked(() => _tracked);
    }

    /// <summary>Processes <paramref name="votes"/> (after every batch queued before it).</summary>
    public async Task ProcessAsync(IReadOnlyList<VoteInput> votes, CancellationToken cancellationToken)
    {
        var work = new Work(votes);
        await _queue.Writer.WriteAsync(work, cancellationToken);
        await work.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="visit"/> on the loop that owns the state (after every batch queued before it): a fan's
    /// export reads it, an erasure drops the account's part.
    /// </summary>
    public async Task<T> OnStateAsync<T>(Func<VelocityFeatures, RiskDecisions, T> visit, CancellationToken cancellationToken)
    {
        T result = default!;
        var work = new Work([], () => result = visit(_features, _decisions));
        await _queue.Writer.WriteAsync(work, cancellationToken);
        await work.Done.Task.WaitAsync(cancellationToken);
        return result;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var work in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                if (work.Visit is { } visit)
                {
                    visit();
                }
                else
                {
                    Process(work.Votes);
                }

                work.Done.TrySetResult();
            }
            catch (Exception e)
            {
                work.Done.TrySetException(e);
            }
        }
    }

    private void Process(IReadOnlyList<VoteInput> votes)
    {
        var started = Stopwatch.GetTimestamp();
        var model = _models.Current; // one model for the whole batch, even if a new one is promoted meanwhile
        if (_buffer.Length < votes.Count * FeatureSchema.Count)
        {
            _buffer = new float[votes.Count * FeatureSchema.Count];
        }

        _output.Clear();
        var scored = 0;
        var suspect = 0;
        var latest = _time.GetUtcNow().ToUnixTimeMilliseconds() + _maxAheadMs;
        for (var i = 0; i < votes.Count; i++)
        {
            var vote = votes[i];
            if (!_seen.Add(vote.VoteId))
            {
                _metrics.Duplicates.Add(1);
                continue;
            }

            if (vote.AcceptedAtMs > latest)
            {
                vote = vote with { AcceptedAtMs = latest };
                _metrics.FutureClamped.Add(1);
            }

            var f = _buffer.AsSpan(scored * FeatureSchema.Count, FeatureSchema.Count);
            _features.Extract(vote, f);
            if (model is not null)
            {
                var score = model.Score(f);
                if (score >= model.Threshold)
                {
                    suspect++;
                }

                _decisions.Observe(vote, f, score, model.Threshold, _output, _features.LastGroup);
            }

            scored++;
        }

        _tracked = _features.Tracked;
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        _metrics.Scored.Add(scored);
        _metrics.Suspect.Add(suspect);
        if (scored > 0)
        {
            _metrics.BatchLatency.Record(ms);
            _metrics.VoteLatency.Record(ms * 1000 / scored);
        }

        if (model is not null)
        {
            _outbox.Add(_output, model.Version);
        }
    }

    private sealed class Work(IReadOnlyList<VoteInput> votes, Action? visit = null)
    {
        public IReadOnlyList<VoteInput> Votes { get; } = votes;

        public Action? Visit { get; } = visit;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The last N vote ids scored: redelivery (at least once) must not count a vote twice in the windows.</summary>
internal sealed class RecentVoteIds(int capacity)
{
    private readonly HashSet<Guid> _set = new(capacity);
    private readonly Queue<Guid> _order = new(capacity);

    public bool Add(Guid id)
    {
        if (!_set.Add(id))
        {
            return false;
        }

        _order.Enqueue(id);
        if (_order.Count > capacity)
        {
            _set.Remove(_order.Dequeue());
        }

        return true;
    }
}
