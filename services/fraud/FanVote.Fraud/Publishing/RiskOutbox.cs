using Dapr;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Fraud.Core;
using Microsoft.Extensions.Options;

namespace FanVote.Fraud.Publishing;

/// <summary>
/// Verdicts and flags on their way to the broker. The scoring loop only hands them over (it never waits for the
/// broker); this publishes them in order, verdicts first (ingress is waiting for those), retrying with backoff while
/// the broker is away. In memory: a crash loses what is not yet sent, and a subject that keeps misbehaving is simply
/// judged again. When the outbox is full, flags are dropped (counted and logged), never verdicts.
/// </summary>
public sealed class RiskOutbox : BackgroundService
{
    private readonly Queue<RiskVerdictIssued> _verdicts = new();
    private readonly Queue<VotesFlagged> _flags = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly DaprClient _dapr;
    private readonly FraudMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<RiskOutbox> _log;
    private readonly int _max;
    private int _flagIds;

    public RiskOutbox(DaprClient dapr, FraudMetrics metrics, TimeProvider time, IOptions<FraudOptions> options, ILogger<RiskOutbox> log)
    {
        _dapr = dapr;
        _metrics = metrics;
        _time = time;
        _log = log;
        _max = options.Value.MaxOutbox;
        metrics.ObserveOutbox(() => Depth);
    }

    public int Depth
    {
        get
        {
            lock (_gate)
            {
                return _verdicts.Count + _flags.Count;
            }
        }
    }

    /// <summary>Queues what one batch decided, stamped with the model that decided it.</summary>
    public void Add(RiskOutput output, string modelVersion)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Verdicts.Count == 0 && output.FlaggedCount == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (var v in output.Verdicts)
            {
                var expires = DateTimeOffset.FromUnixTimeMilliseconds(v.ExpiresAtMs);
                _metrics.Verdicts.Add(1, new("action", v.Action.ToString().ToLowerInvariant()), new("reason", v.Reasons[0]));
                if (expires <= now)
                {
                    FraudLog.VerdictStale(_log, new FanVote.ServiceDefaults.RedactedId(v.Subject), expires); // replaying an old backlog: nothing left to enforce
                    continue;
                }

                FraudLog.Verdict(_log, v.Action, v.SubjectKind, new FanVote.ServiceDefaults.RedactedId(v.Subject), v.Score, v.Reasons, modelVersion);
                _verdicts.Enqueue(new RiskVerdictIssued
                {
                    EventId = Guid.CreateVersion7(now),
                    OccurredAt = DateTimeOffset.FromUnixTimeMilliseconds(v.IssuedAtMs),
                    SubjectKind = v.SubjectKind,
                    Subject = v.Subject,
                    Score = v.Score,
                    ReasonCodes = v.Reasons,
                    Action = v.Action,
                    ModelVersion = modelVersion,
                    ExpiresAt = expires,
                });
            }

            foreach (var f in output.Flags)
            {
                _metrics.Flagged.Add(f.VoteIds.Count, new KeyValuePair<string, object?>("reason", f.Reasons[0]));
                if (_flagIds + f.VoteIds.Count > _max)
                {
                    _metrics.Undeliverable.Add(f.VoteIds.Count);
                    FraudLog.OutboxFull(_log, f.VoteIds.Count, new FanVote.ServiceDefaults.RedactedId(f.Subject));
                    continue;
                }

                _flagIds += f.VoteIds.Count;
                _flags.Enqueue(new VotesFlagged
                {
                    EventId = Guid.CreateVersion7(now),
                    OccurredAt = now,
                    WindowId = f.WindowId,
                    VoteIds = [.. f.VoteIds],
                    SubjectKind = f.SubjectKind,
                    Subject = f.Subject,
                    ReasonCodes = f.Reasons,
                    Score = f.Score,
                    ModelVersion = modelVersion,
                });
            }
        }

        _signal.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = 100;
        while (!stoppingToken.IsCancellationRequested)
        {
            FanVoteEvent? next;
            lock (_gate)
            {
                next = _verdicts.Count > 0 ? _verdicts.Peek() : _flags.Count > 0 ? _flags.Peek() : null;
            }

            if (next is null)
            {
                try
                {
                    await _signal.WaitAsync(stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            var topic = next is RiskVerdictIssued ? Topics.RiskVerdicts : Topics.VoteFlags;
            try
            {
                if (next is RiskVerdictIssued verdict)
                {
                    await _dapr.PublishEventAsync(ComponentNames.VoteBus, topic, verdict, stoppingToken);
                }
                else
                {
                    await _dapr.PublishEventAsync(ComponentNames.VoteBus, topic, (VotesFlagged)next, stoppingToken);
                }

                lock (_gate)
                {
                    if (next is RiskVerdictIssued)
                    {
                        _verdicts.Dequeue();
                    }
                    else
                    {
                        _flagIds -= _flags.Dequeue().VoteIds.Count;
                    }
                }

                delay = 100;
            }
            catch (Exception e) when (e is DaprException or Grpc.Core.RpcException or HttpRequestException && !stoppingToken.IsCancellationRequested)
            {
                FraudLog.PublishFailed(_log, e, topic, delay);
                await Task.Delay(TimeSpan.FromMilliseconds(delay), _time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                delay = Math.Min(delay * 2, 5_000);
            }
        }
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }
}
