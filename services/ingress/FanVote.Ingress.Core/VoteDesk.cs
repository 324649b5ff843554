using System.Globalization;
using FanVote.Contracts.Events;
using FanVote.Security;

namespace FanVote.Ingress.Core;

/// <summary>Everything the vote endpoint read off the request, for <see cref="VoteDesk.DecideAsync"/>.</summary>
/// <param name="WindowId">From the route (already a valid id).</param>
/// <param name="Fan">The signed-in fan, from the token: the only identity (account, device, account age).</param>
/// <param name="Candidate">The body's candidateId, or null when the body was not a valid vote.</param>
/// <param name="IdempotencyKey">The Idempotency-Key header ("" when absent).</param>
/// <param name="ClientIp">The client address (behind trusted proxies only, from X-Forwarded-For).</param>
public sealed record VoteRequest(string WindowId, SessionClaims Fan, string? Candidate, string IdempotencyKey, string ClientIp);

/// <summary>What the endpoint answers.</summary>
public abstract record VoteDecision
{
    /// <summary>202: the vote is in the broker (or was, for a retry), with its id and receipt.</summary>
    public sealed record Accepted(Guid VoteId, string Receipt) : VoteDecision;

    /// <summary>
    /// A refusal with its HTTP status, a title and a detail a fan can act on, the metric reason, and when known the
    /// Retry-After seconds, a challenge id, or the vote id to look up.
    /// </summary>
    public sealed record Refused(int Status, string Title, string Detail, string Reason, int? RetryAfter = null, Guid? ChallengeId = null, Guid? VoteId = null, string? VerdictReason = null) : VoteDecision;
}

/// <summary>Sends an admitted vote to the broker (group commit); true once it is acknowledged and committed.</summary>
public interface IVotePublisher
{
    Task<bool> PublishAsync(VoteAccepted vote, VoteCommit commit);
}

/// <summary>The vote desk's settings (from IngressOptions).</summary>
public sealed record VoteDeskOptions(RateLimits Limits, TimeSpan RepublishAfterClose);

/// <summary>
/// Decides one vote: is the window open, is the body a vote for one of its candidates, is the account or the device
/// under a fraud verdict, then one admission round trip (idempotency, quota, rate limits), then the group commit to the
/// broker. A retry with the Idempotency-Key of a vote already acknowledged always gets its original 202, whatever
/// happened since (a challenge, the close). Every vote ingress publishes carries its seal (<see cref="VoteSeal"/>);
/// the device and the account are the token's, never a header's. No HTTP or Dapr types here: the endpoint maps in and out.
/// </summary>
public sealed class VoteDesk(
    WindowBook windows, VerdictCache verdicts, IAdmissionStore admission, IVotePublisher publisher, VoteReceipts receipts, VoteSeal seal,
    VoteDeskOptions options, TimeProvider time)
{
    public async Task<VoteDecision> DecideAsync(VoteRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var fan = request.Fan;
        var window = windows.Find(request.WindowId);
        if (window is null)
        {
            return new VoteDecision.Refused(404, "Unknown window", $"There is no voting window '{request.WindowId}'. Check the link you voted from.", "unknown-window");
        }

        var now = time.GetUtcNow();
        switch (window.StatusAt(now))
        {
            case WindowStatus.NotYetOpen:
                return new VoteDecision.Refused(409, "Voting has not started", $"Voting opens at {window.OpensAt:u}. Try again then.", "not-open");
            case WindowStatus.Closed:
                return await AfterCloseAsync(request, window, now, cancellationToken);
        }

        if (request.Candidate is null)
        {
            return new VoteDecision.Refused(400, "Invalid vote", "Send a JSON body like {\"candidateId\":\"a\"}.", "body");
        }

        if (!window.HasCandidate(request.Candidate))
        {
            return new VoteDecision.Refused(422, "Unknown candidate",
                $"'{request.Candidate}' is not a candidate in this window. Choose one of: {string.Join(", ", window.Candidates)}.", "unknown-candidate");
        }

        if (VoteRules.CheckIdempotencyKey(request.IdempotencyKey) is { } keyProblem)
        {
            return new VoteDecision.Refused(400, "Missing Idempotency-Key", keyProblem, "idempotency-key");
        }

        // Fraud verdicts: an in-memory lookup, no I/O (nothing at all while no verdict is known).
        if (verdicts.Find(fan.AccountId, fan.DeviceId, now) is { } verdict)
        {
            // A retry of a vote acknowledged before the verdict keeps its 202: it was accepted and is counted.
            if (await admission.FindAsync(request.WindowId, fan.AccountId, request.IdempotencyKey, cancellationToken) is { Committed: true } earlier
                && earlier.CandidateId == request.Candidate)
            {
                return Accepted(request.WindowId, earlier);
            }

            return Refusal(verdict);
        }

        var record = new IdempotencyRecord(Guid.CreateVersion7(now), request.Candidate, now, Committed: false);
        var decision = await admission.AdmitAsync(new AdmissionRequest(
            request.WindowId, fan.AccountId, fan.DeviceId, IpPrefix.Of(request.ClientIp), request.IdempotencyKey, window.VotesPerAccount,
            window.ClosesAt - now + TimeSpan.FromHours(1), options.Limits, record), cancellationToken);
        switch (decision.Outcome)
        {
            case AdmissionOutcome.QuotaExhausted:
                return new VoteDecision.Refused(429, "No votes left", $"You have used all {window.VotesPerAccount} of your votes in this window.", "quota",
                    RetryAfter: VoteRules.RetryAfterQuota(window, now));
            case AdmissionOutcome.AccountErased:
                return new VoteDecision.Refused(403, "Account erased", "You asked for this account to be erased: it can no longer vote. Sign in again to vote with a new account.", "erased");
            case AdmissionOutcome.RateLimited:
                return new VoteDecision.Refused(429, "Slow down", $"Too many votes per second from this {decision.LimitedBy}. Wait a second and try again.",
                    "rate-" + decision.LimitedBy, RetryAfter: VoteRules.RetryAfterRateLimit());
            case AdmissionOutcome.Duplicate when decision.Existing!.CandidateId != request.Candidate:
                return new VoteDecision.Refused(422, "Idempotency-Key reused",
                    "This Idempotency-Key was already used for a vote for another candidate. Use a new key for a new vote.", "idempotency-conflict");
            case AdmissionOutcome.Duplicate when decision.Existing!.Committed:
                return Accepted(request.WindowId, decision.Existing);
            case AdmissionOutcome.Duplicate:
                record = decision.Existing!; // an earlier attempt got 503: publish the very same vote again
                break;
        }

        return await PublishAsync(request, record);
    }

    /// <summary>
    /// After the close only retries are answered: an acknowledged vote gets its 202 again; one whose first attempt got
    /// 503 is published again (with its original time) until close + RepublishAfterClose, later it gets 409 with its
    /// vote id to look up.
    /// </summary>
    private async Task<VoteDecision> AfterCloseAsync(VoteRequest request, WindowSchedule window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var retried = VoteRules.CheckIdempotencyKey(request.IdempotencyKey) is null
            ? await admission.FindAsync(request.WindowId, request.Fan.AccountId, request.IdempotencyKey, cancellationToken)
            : null;
        if (retried is null || (request.Candidate is not null && request.Candidate != retried.CandidateId))
        {
            return new VoteDecision.Refused(409, "Voting has closed", $"Voting closed at {window.ClosesAt:u}; votes are no longer accepted.", "closed");
        }

        if (retried.Committed)
        {
            return Accepted(request.WindowId, retried);
        }

        if (now > window.ClosesAt + options.RepublishAfterClose)
        {
            // Too late to confirm it: the drain has taken (or is about to take) the accepted count as final. The 503
            // attempt may still have reached the broker (a publish cannot be called back), so the fan gets the vote id
            // to look up: a receipt exists after certification if and only if it counted.
            return new VoteDecision.Refused(409, "Voting has closed",
                $"Voting closed at {window.ClosesAt:u} and your earlier attempt with this Idempotency-Key was never confirmed; it is too late to send it again. " +
                $"If that attempt reached us it is counted: once the result is certified, GET /v1/windows/{request.WindowId}/receipts/{retried.VoteId} on the results service answers 200 if it was, 404 if not.",
                "closed-unconfirmed", VoteId: retried.VoteId);
        }

        if (verdicts.Find(request.Fan.AccountId, request.Fan.DeviceId, now) is { } verdict)
        {
            return Refusal(verdict);
        }

        return await PublishAsync(request, retried);
    }

    private async Task<VoteDecision> PublishAsync(VoteRequest request, IdempotencyRecord record)
    {
        var fan = request.Fan;
        var vote = new VoteAccepted
        {
            EventId = record.VoteId,
            OccurredAt = record.AcceptedAt,
            VoteId = record.VoteId,
            WindowId = request.WindowId,
            CandidateId = record.CandidateId,
            AccountId = fan.AccountId,
            DeviceId = fan.DeviceId,
            Ip = request.ClientIp,
            AccountCreatedAt = fan.AccountCreatedAt,
            Seal = seal.Seal(record.VoteId, request.WindowId, record.CandidateId, fan.AccountId, fan.DeviceId, request.ClientIp, record.AcceptedAt, fan.AccountCreatedAt),
        };
        if (!await publisher.PublishAsync(vote, new VoteCommit(request.WindowId, fan.AccountId, request.IdempotencyKey, record)))
        {
            return new VoteDecision.Refused(503, "Vote not stored yet",
                "We could not store your vote just now. Retry with the same Idempotency-Key: it will count once.", "broker", RetryAfter: 1);
        }

        return Accepted(request.WindowId, record);
    }

    private VoteDecision.Accepted Accepted(string windowId, IdempotencyRecord r) =>
        new(r.VoteId, receipts.Issue(r.VoteId, windowId, r.CandidateId, r.AcceptedAt));

    private static VoteDecision.Refused Refusal(CachedVerdict verdict) =>
        verdict.Action == RiskAction.Block
            ? new VoteDecision.Refused(403, "Votes blocked",
                string.Create(CultureInfo.InvariantCulture, $"Votes from this {verdict.SubjectKind} are blocked until {verdict.ExpiresAt:u} because of unusual voting activity. If you think this is a mistake, contact the show's support."),
                "risk-block", VerdictReason: verdict.Reasons.Count > 0 ? verdict.Reasons[0] : null)
            : new VoteDecision.Refused(403, "Check needed",
                $"We need a quick check that a person is voting from this {verdict.SubjectKind}. Answer the challenge (POST /v1/challenges/{verdict.ChallengeId} with {{\"answer\":\"...\"}}), then vote again.",
                "risk-challenge", ChallengeId: verdict.ChallengeId, VerdictReason: verdict.Reasons.Count > 0 ? verdict.Reasons[0] : null);
}
