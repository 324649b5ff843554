using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Adapters;
using FanVote.ServiceDefaults;

namespace FanVote.Rewards.Payouts;

/// <summary>
/// A window's payout: the orchestrator's request names the rules and the certified voters digest; the voters come
/// from tally (asked for with CountedVotersRequested when missing). When both are here and match, the ledger pays
/// in one transaction and RewardsPaid answers the orchestrator. Every path is idempotent: a repeated request or chunk
/// after the payout only repeats the stored answer.
/// </summary>
public sealed class PayoutService(PostgresPointsLedger ledger, DaprClient dapr, RewardsMetrics metrics, TimeProvider time, ILogger<PayoutService> log)
{
    // Every retry of the orchestrator's request would ask tally to send all voters again; once per window per this
    // long is enough (a mismatch asks at once).
    private static readonly TimeSpan AskAgainAfter = TimeSpan.FromSeconds(10);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _asked = new(StringComparer.Ordinal);

    public async Task RequestedAsync(PayoutRequested request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await ledger.RecordRequestAsync(request, ct) is { } paid)
        {
            await AnswerAsync(paid, ct);
            return;
        }

        await TryPayAsync(request.WindowId, askForVoters: true, ct);
    }

    public async Task VotersArrivedAsync(CountedVotersChunk chunk, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        await ledger.StoreVotersAsync(chunk, ct);
        await TryPayAsync(chunk.WindowId, askForVoters: false, ct);
    }

    private async Task TryPayAsync(string windowId, bool askForVoters, CancellationToken ct)
    {
        var (paid, paidNow, here, needed, mismatch) = await ledger.TryPayAsync(windowId, time.GetUtcNow(), ct);
        if (paid is not null)
        {
            if (paidNow)
            {
                metrics.Payouts.Add(1);
                metrics.Entries.Add(paid.Entries);
                metrics.Points.Add(paid.Points);
                RewardsLog.Paid(log, windowId, paid.Points, paid.Accounts, paid.LedgerHeadSeq);
            }

            await AnswerAsync(paid, ct);
            return;
        }

        if (mismatch)
        {
            RewardsLog.VotersMismatch(log, windowId);
        }

        var now = time.GetUtcNow();
        var recently = _asked.TryGetValue(windowId, out var at) && now - at < AskAgainAfter;
        if (needed > 0 && (mismatch || (askForVoters && !recently)))
        {
            _asked[windowId] = now;
            RewardsLog.WaitingForVoters(log, windowId, here, needed);
            await dapr.PublishTypedAsync(Topics.VoterRequests, EventTypes.CountedVotersRequested, new CountedVotersRequested
            {
                EventId = Guid.NewGuid(),
                OccurredAt = time.GetUtcNow(),
                WindowId = windowId,
            }, ct);
        }
    }

    private Task AnswerAsync(RewardsPaid paid, CancellationToken ct) => dapr.PublishTypedAsync(Topics.WindowReports, EventTypes.RewardsPaid, paid, ct);
}
