using System.Diagnostics;
using FanVote.Contracts;
using FanVote.ServiceDefaults.Transport;
using FanVote.Tally.Adapters;
using FanVote.Tally.Core;
using FanVote.Transport;
using Microsoft.Extensions.Options;

namespace FanVote.Tally;

/// <summary>
/// The bulk subscription to `votes` (only the sidecar may call it). Each vote is screened (<see cref="VoteScreen"/>):
/// sealed by ingress, inside its window, for one of its candidates. Counted votes and quarantined ones are committed
/// in one transaction, and only then is an entry SUCCESS; a database failure answers RETRY for the batch (the sidecar
/// redelivers; the ledger ignores what it already has); a vote of a window not known yet is RETRYed on its own; an
/// entry that can never be read is DROPped to `votes-dlq` and logged.
/// </summary>
public static class VoteSubscriptions
{
    public static WebApplication MapVoteSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var o = app.Services.GetRequiredService<IOptions<TallyOptions>>().Value;
        app.MapBulkSubscription<AcceptedVote, VoteData>(Topics.Votes, Topics.VotesDeadLetter, o.MaxBatch, o.MaxAwaitMs, HandleAsync);
        return app;
    }

    private static async Task<IReadOnlyList<BulkStatus>> HandleAsync(BulkBatch<AcceptedVote> batch)
    {
        var services = batch.Context.RequestServices;
        var ct = batch.Context.RequestAborted;
        var metrics = services.GetRequiredService<TallyMetrics>();
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("FanVote.Tally.Votes");
        var votes = batch.Items;
        var statuses = new BulkStatus[votes.Count];
        metrics.BatchSize.Record(votes.Count);
        try
        {
            var windows = await services.GetRequiredService<PostgresWindows>().FindAsync(votes.Select(v => v.WindowId), ct);
            var screen = services.GetRequiredService<VoteScreen>();
            var counted = new List<AcceptedVote>(votes.Count);
            var quarantined = new List<QuarantinedVote>();
            Dictionary<string, int>? reasons = null;
            for (var i = 0; i < votes.Count; i++)
            {
                var v = votes[i];
                var s = screen.Screen(v, windows.GetValueOrDefault(v.WindowId));
                statuses[i] = s.Verdict == ScreenVerdict.Retry ? BulkStatus.Retry : BulkStatus.Success;
                if (s.Verdict == ScreenVerdict.Count)
                {
                    counted.Add(v);
                }
                else if (s.Verdict == ScreenVerdict.Quarantine)
                {
                    quarantined.Add(new QuarantinedVote(v, s.Reason!));
                    (reasons ??= new(StringComparer.Ordinal))[s.Reason!] = reasons.GetValueOrDefault(s.Reason!) + 1;
                }
            }

            if (reasons is not null)
            {
                TallyLog.Quarantined(log, quarantined.Count, string.Join(", ", reasons.Select(r => $"{r.Key} {r.Value}")));
            }

            var started = Stopwatch.GetTimestamp();
            var result = await services.GetRequiredService<IVoteLedger>().AppendAsync(counted, quarantined, ct);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            metrics.WriteLatency.Record(ms);
            metrics.Inserted.Add(result.Inserted);
            metrics.Duplicates.Add(result.Duplicates);
            metrics.Quarantined.Add(result.Quarantined);
            services.GetRequiredService<LiveTally>().Apply(result.Changed);
            if (batch.Traces.Count == votes.Count)
            {
                var traces = services.GetRequiredService<TallyTraces>();
                for (var i = 0; i < votes.Count; i++)
                {
                    traces.Counted(votes[i].WindowId, batch.Traces[i]);
                }
            }
            TallyLog.BatchStored(log, result.Inserted, result.Duplicates, ms);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            TallyLog.BatchFailed(log, e, votes.Count);
            metrics.Retried.Add(1);
            Array.Fill(statuses, BulkStatus.Retry);
        }

        return statuses;
    }
}
