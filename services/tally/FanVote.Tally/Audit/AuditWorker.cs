using System.Threading.Channels;
using Dapr.Client;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Tally.Adapters;

namespace FanVote.Tally.Audit;

/// <summary>Work the audit component does off the subscription path (an audit of millions of votes takes seconds).</summary>
public abstract record AuditJob(string WindowId);

public sealed record AuditWindowJob(string WindowId, IReadOnlyList<string> Candidates, long Accepted, IReadOnlyList<Guid> Unconfirmed, string Nonce) : AuditJob(WindowId);

public sealed record PublishVotersJob(string WindowId) : AuditJob(WindowId);

/// <summary>
/// Runs audit jobs one at a time. The request handlers only enqueue (a duplicate of a queued job is dropped, and at
/// most <see cref="MaxQueued"/> wait) and acknowledge, so a long audit never holds a delivery past the broker's
/// processing timeout; a job lost to a crash or a full queue is asked for again by its requester, and every job is
/// idempotent: the first audit is stored and reused. For an audit: only of a window tally knows, after its close, for
/// its own candidate list; audit (or load the stored result), publish the receipt chunks once (then mark them
/// published), answer WindowAudited. For voters: publish the counted-voters chunks of an audited window.
/// </summary>
public sealed class AuditWorker(PostgresAuditStore store, PostgresWindows windows, DaprClient dapr, TallyMetrics metrics, TimeProvider time, ILogger<AuditWorker> log) : BackgroundService
{
    public const int MaxQueued = 1_000;
    private readonly Channel<AuditJob> _jobs = Channel.CreateBounded<AuditJob>(MaxQueued);
    private readonly HashSet<AuditJob> _queued = [];
    private readonly Lock _gate = new();

    public void Enqueue(AuditJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var key = Key(job);
        lock (_gate)
        {
            if (!_queued.Add(key))
            {
                return;
            }
        }

        if (!_jobs.Writer.TryWrite(job))
        {
            lock (_gate)
            {
                _queued.Remove(key);
            }

            TallyLog.AuditQueueFull(log, job.WindowId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var job in _jobs.Reader.ReadAllAsync(stoppingToken))
        {
            lock (_gate)
            {
                _queued.Remove(Key(job));
            }

            try
            {
                await (job switch
                {
                    AuditWindowJob a => AuditAsync(a, stoppingToken),
                    _ => PublishVotersAsync(job.WindowId, stoppingToken),
                });
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                TallyLog.AuditJobFailed(log, e, job.WindowId, job.GetType().Name);
            }
        }
    }

    private static AuditJob Key(AuditJob job) => job is AuditWindowJob a ? new PublishVotersJob("audit:" + a.WindowId) : job;

    private async Task AuditAsync(AuditWindowJob job, CancellationToken ct)
    {
        var stored = await store.FindAsync(job.WindowId, ct);
        CertifiedResult result;
        if (stored is { } s)
        {
            result = s.Result;
        }
        else
        {
            var now = time.GetUtcNow();
            var window = (await windows.FindAsync([job.WindowId], ct)).GetValueOrDefault(job.WindowId);
            var refusal = window is null ? "the window is not known here"
                : now < window.ClosesAt ? $"the window closes only at {window.ClosesAt:u}"
                : !window.Candidates.SequenceEqual(job.Candidates) ? "its candidate list is not the window's"
                : string.IsNullOrEmpty(job.Nonce) || job.Nonce.Length > 128 ? "it carries no valid nonce"
                : null;
            if (refusal is not null)
            {
                TallyLog.AuditRefused(log, job.WindowId, refusal);
                return;
            }

            result = await store.AuditAsync(window!, job.Accepted, job.Unconfirmed, job.Nonce, now, ct);
        }

        if (stored is null)
        {
            metrics.Audits.Add(1);
            TallyLog.Audited(log, job.WindowId, result.Total, result.Excluded, result.LiveMatches, result.Digest);
        }

        if (stored is not { ChunksPublished: true })
        {
            var index = 0;
            await foreach (var chunk in store.LeafChunksAsync(job.WindowId, result.Candidates, ct))
            {
                await dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.ReceiptChunks, new ReceiptChunk
                {
                    EventId = EventIds.Stable(job.WindowId, "receipt-chunk", index.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    OccurredAt = result.AuditedAt,
                    WindowId = job.WindowId,
                    ChunkIndex = index++,
                    ChunkCount = result.ReceiptChunks,
                    LeafCount = result.LeafCount,
                    Candidates = result.Candidates,
                    Leaves = Convert.ToBase64String(ReceiptChunks.Pack(chunk)),
                }, ct);
            }

            await store.MarkChunksPublishedAsync(job.WindowId, ct);
        }

        await dapr.PublishTypedAsync(Topics.WindowReports, EventTypes.WindowAudited, new WindowAudited
        {
            EventId = EventIds.Stable(job.WindowId, EventTypes.WindowAudited),
            OccurredAt = result.AuditedAt,
            WindowId = job.WindowId,
            Result = result,
        }, ct);
    }

    private async Task PublishVotersAsync(string windowId, CancellationToken ct)
    {
        var stored = await store.FindAsync(windowId, ct);
        if (stored is not { } audited)
        {
            TallyLog.VotersOfUnauditedWindow(log, windowId);
            return;
        }

        var index = 0;
        await foreach (var chunk in store.VoterChunksAsync(windowId, ct))
        {
            await dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.CountedVoters, new CountedVotersChunk
            {
                EventId = EventIds.Stable(windowId, "voters-chunk", index.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                OccurredAt = audited.Result.AuditedAt,
                WindowId = windowId,
                ChunkIndex = index++,
                ChunkCount = audited.Result.VoterChunks,
                Voters = chunk,
            }, ct);
        }
    }
}
