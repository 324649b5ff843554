using FanVote.Contracts.Events;

namespace FanVote.Workflows;

public sealed record PayRewardsInput(WindowDefinition Definition, CertifiedResult Certified, int Attempt, RewardsPaid? Report);

/// <summary>
/// The payout: asks rewards to pay the certified voters under the window's rules until rewards reports the payout
/// committed. Rewards credits idempotently per (window, account, reason), so asking again never pays twice; the
/// step is done only on rewards' report, so PaidOut is a fact, not a hope.
/// </summary>
public sealed class PayRewardsActivity(IWindowRequests requests, LifecycleTimings timings, TimeProvider time)
{
    public async Task<ActivityResult<PayoutOutcome>> RunAsync(PayRewardsInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = time.GetUtcNow();
        if (input.Report is { } r)
        {
            return ActivityResult.Finished(new PayoutOutcome(r.Accounts, r.Points, r.Entries, r.LedgerHeadSeq, r.LedgerHeadHash, now));
        }

        await requests.PayoutAsync(input.Definition.WindowId, input.Attempt, input.Definition.PayoutRules, input.Certified, now, cancellationToken);
        return ActivityResult.WaitUntil<PayoutOutcome>($"payout requested from rewards (attempt {input.Attempt})", now + timings.Poll(input.Attempt));
    }
}
