using FanVote.Certification;
using FanVote.Contracts.Events;

namespace FanVote.Tally.Core;

/// <summary>
/// What the audit read from the ledger, in one snapshot: every ledger vote by candidate, the live tally, the counted
/// votes (ledger minus excluded) by candidate, the exclusions by reason, the Merkle root and voters digest over
/// the counted votes, how many ledger votes are among the ones ingress sent without confirmation, and the votes tally
/// quarantined for the window, by reason.
/// </summary>
public sealed record LedgerSnapshot(
    IReadOnlyDictionary<string, long> Ledger,
    IReadOnlyDictionary<string, long> Live,
    IReadOnlyDictionary<string, long> Counted,
    IReadOnlyDictionary<string, long> ExcludedByReason,
    string MerkleRoot,
    long Leaves,
    long Voters,
    string VotersDigest,
    long UnconfirmedInLedger,
    IReadOnlyDictionary<string, long> QuarantinedByReason);

/// <summary>Turns an audit's snapshot into the certified result, digest included.</summary>
public static class WindowAudit
{
    /// <summary>Accounts per `counted-voters` chunk (about 100 KB of JSON).</summary>
    public const int VoterChunkSize = 2_000;

    /// <summary>Reason for ledger votes whose candidate is not on the window's list (ingress refuses them; this is a guard).</summary>
    public const string UnknownCandidate = "unknown-candidate";

    /// <summary>Reason for a flag that carried no reason code.</summary>
    public const string Unspecified = "unspecified";

    public static CertifiedResult Certify(string windowId, IReadOnlyList<string> candidates, long accepted, string nonce, LedgerSnapshot s, DateTimeOffset auditedAt)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(s);
        var counts = candidates.ToDictionary(c => c, c => s.Counted.GetValueOrDefault(c), StringComparer.Ordinal);
        var total = counts.Values.Sum();
        var top = total == 0 ? 0 : counts.Values.Max();
        var result = new CertifiedResult
        {
            WindowId = windowId,
            Candidates = candidates,
            Counts = counts,
            Total = total,
            Winners = total == 0 ? [] : [.. candidates.Where(c => counts[c] == top)],
            Accepted = accepted,
            Persisted = s.Ledger.Values.Sum(),
            Excluded = s.ExcludedByReason.Values.Sum(),
            ExcludedByReason = s.ExcludedByReason,
            LiveTotal = s.Live.Values.Sum(),
            LiveMatches = s.Ledger.Keys.Union(s.Live.Keys).All(c => s.Ledger.GetValueOrDefault(c) == s.Live.GetValueOrDefault(c)),
            MerkleRoot = s.MerkleRoot,
            LeafCount = s.Leaves,
            ReceiptChunkSize = ReceiptChunks.ChunkSize,
            ReceiptChunks = ReceiptChunks.ChunkCount(s.Leaves),
            Voters = s.Voters,
            VoterChunks = (int)((s.Voters + VoterChunkSize - 1) / VoterChunkSize),
            VotersDigest = s.VotersDigest,
            AuditedAt = DateTimeOffset.FromUnixTimeMilliseconds(auditedAt.ToUnixTimeMilliseconds()),
            Unconfirmed = s.UnconfirmedInLedger,
            Quarantined = s.QuarantinedByReason.Values.Sum(),
            QuarantinedByReason = s.QuarantinedByReason,
            AuditNonce = nonce,
            Digest = "",
        };
        return result with { Digest = CertifiedDigest.Compute(result) };
    }
}
