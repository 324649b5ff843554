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
    // Windows whose payout waits for consent records: ConsentRetryWorker tries them again every second (a try reads every
    // counted voter, so not once per arriving consent event), until the records are here or the wait is over.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _waitingForConsent = new(StringComparer.Ordinal);

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
        var attempt = await ledger.TryPayAsync(windowId, time.GetUtcNow(), ct);
        var (paid, paidNow, here, needed, mismatch) = attempt;
        if (attempt.WaitingForConsent > 0)
        {
            // Tried again every second (ConsentRetryWorker) and at the orchestrator's next request; past the wait, paid without them.
            _waitingForConsent[windowId] = 0;
            RewardsLog.WaitingForConsent(log, windowId, attempt.WaitingForConsent, attempt.WaitUntil);
            return;
        }

        _waitingForConsent.TryRemove(windowId, out _);
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

    /// <summary>Tries again every payout that waits for consent records.</summary>
    public async Task RetryWaitingForConsentAsync(CancellationToken ct)
    {
        foreach (var windowId in _waitingForConsent.Keys)
        {
            await TryPayAsync(windowId, askForVoters: false, ct);
        }
    }

    private Task AnswerAsync(RewardsPaid paid, CancellationToken ct) => dapr.PublishTypedAsync(Topics.WindowReports, EventTypes.RewardsPaid, paid, ct);
}

/// <summary>Every second, the payouts that wait for consent records try again (see <see cref="RewardsOptions.ConsentWait"/>).</summary>
public sealed class ConsentRetryWorker(PayoutService payouts, ILogger<ConsentRetryWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await payouts.RetryWaitingForConsentAsync(stoppingToken);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or Dapr.DaprException)
            {
                RewardsLog.ConsentRetryFailed(log, e);
            }
        }
    }
}
