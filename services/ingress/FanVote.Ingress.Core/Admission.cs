using System.Globalization;
using System.Text.Json;

namespace FanVote.Ingress.Core;

/// <summary>Per-second limits: per account, per device, per IP prefix.</summary>
public sealed record RateLimits(int PerAccount, int PerDevice, int PerIpPrefix);

/// <summary>Everything the one-round-trip admission check needs about a vote.</summary>
public sealed record AdmissionRequest(
    string WindowId,
    string AccountId,
    string DeviceId,
    string IpPrefix,
    string IdempotencyKey,
    int Quota,
    TimeSpan QuotaLifetime,
    RateLimits Limits,
    IdempotencyRecord NewRecord);

public enum AdmissionOutcome
{
    Admitted,
    Duplicate,
    QuotaExhausted,
    RateLimited,

    /// <summary>The fan erased this account (DELETE /v1/me): a session still valid votes no more.</summary>
    AccountErased,
}

/// <summary>The decision; for a duplicate, the record stored by the first request with that key.</summary>
public sealed record AdmissionResult(AdmissionOutcome Outcome, IdempotencyRecord? Existing = null, string? LimitedBy = null);

/// <summary>
/// What is kept per (account, Idempotency-Key): the vote id and what it was for, and whether the broker has
/// acknowledged it. A retry of a <c>Pending</c> vote (its first attempt got 503) publishes the same vote id
/// again: the ledger is idempotent by vote id, so it is counted once whichever attempt lands, and the quota
/// was taken once. A retry of a <c>Committed</c> vote just gets its 202 again.
/// </summary>
public sealed record IdempotencyRecord(Guid VoteId, string CandidateId, DateTimeOffset AcceptedAt, bool Committed)
{
    public string Serialize() => string.Join('|', VoteId.ToString("N"), Committed ? "c" : "p", AcceptedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), CandidateId);

    public static IdempotencyRecord Parse(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var p = s.Split('|', 4);
        return new IdempotencyRecord(Guid.ParseExact(p[0], "N"), p[3], DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(p[2], CultureInfo.InvariantCulture)), p[1] == "c");
    }
}

/// <summary>A vote the broker acknowledged, to be marked committed and counted once as accepted for its window.</summary>
public sealed record VoteCommit(string WindowId, string AccountId, string IdempotencyKey, IdempotencyRecord Record);

/// <summary>The admission store: idempotency, quota and rate limits checked and taken atomically.</summary>
public interface IAdmissionStore
{
    Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);

    /// <summary>The record stored for (window, account, Idempotency-Key), if any: lets a retry that arrives after the window closed still get its answer.</summary>
    Task<IdempotencyRecord?> FindAsync(string windowId, string accountId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the votes acknowledged by the broker and counts each as accepted for its window, exactly once per
    /// vote however often it is committed (a retry of a vote whose 202 was lost commits it again); a committed vote
    /// is no longer unconfirmed.
    /// </summary>
    Task CommitAsync(IReadOnlyList<VoteCommit> votes, CancellationToken cancellationToken);

    /// <summary>
    /// Records votes that were sent to the broker but never confirmed (their fans get 503): they may be in the ledger
    /// without being counted as accepted, and the audit needs their ids to tell them from votes nobody accepted.
    /// </summary>
    Task MarkUnconfirmedAsync(IReadOnlyList<(string WindowId, Guid VoteId)> votes, CancellationToken cancellationToken);

    /// <summary>The window's unconfirmed votes (at most <paramref name="max"/>) and whether there are more.</summary>
    Task<(IReadOnlyList<Guid> VoteIds, bool Truncated)> UnconfirmedAsync(string windowId, int max, CancellationToken cancellationToken);
}

/// <summary>Checks on the vote request that need no storage.</summary>
public static class VoteRules
{
    public const int MaxKeyLength = 128;

    public static string? CheckIdempotencyKey(string? key) =>
        string.IsNullOrWhiteSpace(key) ? "Send an Idempotency-Key header (a fresh random value per vote, reused only when retrying that vote)."
        : key.Length > MaxKeyLength ? $"The Idempotency-Key header may be at most {MaxKeyLength} characters."
        : null;

    /// <summary>
    /// The candidate of a vote body <c>{"candidateId":"..."}</c> (other properties ignored), or null when the body
    /// is not a JSON object with a candidateId string of 1 to 64 characters. Read without building a document.
    /// </summary>
    public static string? TryReadCandidate(ReadOnlySpan<byte> body)
    {
        try
        {
            var r = new Utf8JsonReader(body);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? candidate = null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var isCandidate = r.ValueTextEquals("candidateId"u8);
                r.Read();
                if (isCandidate)
                {
                    candidate = r.TokenType == JsonTokenType.String ? r.GetString() : null;
                    if (candidate is null)
                    {
                        return null;
                    }
                }
                else
                {
                    r.Skip();
                }
            }

            // A complete object and nothing after it.
            return r.TokenType == JsonTokenType.EndObject && !r.Read() && candidate is { Length: > 0 and <= 64 } ? candidate : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Seconds until the next one-second rate window (what Retry-After says for a rate limit).</summary>
    public static int RetryAfterRateLimit() => 1;

    /// <summary>When the quota is used up nothing changes until the window closes.</summary>
    public static int RetryAfterQuota(WindowSchedule w, DateTimeOffset now) =>
        (int)Math.Max(1, Math.Ceiling((w.ClosesAt - now).TotalSeconds));
}
