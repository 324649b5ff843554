using FanVote.Certification;
using FanVote.Contracts.Events;

namespace FanVote.Workflows.Tests;

internal static class Certified
{
    /// <summary>The auditor's key of these tests (tally's signing key in production).</summary>
    public static System.Security.Cryptography.ECDsa Auditor { get; } = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);

    /// <summary>A consistent certified result for the window of <paramref name="s"/>, signed by <see cref="Auditor"/>, answering its nonce.</summary>
    public static CertifiedResult For(WindowState s, long accepted, long persisted, params long[] counts) => For(s.Definition, s.AuditNonce, accepted, persisted, 0, counts);

    /// <summary>A consistent certified result for <paramref name="d"/>: counts per candidate, the rest derived, signed by <see cref="Auditor"/>.</summary>
    public static CertifiedResult For(WindowDefinition d, string nonce, long accepted, long persisted, long unconfirmed, params long[] counts)
    {
        var total = counts.Sum();
        var r = new CertifiedResult
        {
            WindowId = d.WindowId, Candidates = d.Candidates,
            Counts = d.Candidates.Select((c, i) => (c, counts[i])).ToDictionary(x => x.c, x => x.Item2),
            Total = total, Winners = [d.Candidates[Array.IndexOf(counts, counts.Max())]],
            Accepted = accepted, Persisted = persisted, Excluded = persisted - total,
            ExcludedByReason = new Dictionary<string, long> { ["device-farm"] = persisted - total },
            LiveTotal = persisted, LiveMatches = true, MerkleRoot = new string('a', 64), LeafCount = total, ReceiptChunkSize = 4096, ReceiptChunks = 1,
            Voters = 3, VoterChunks = 1, VotersDigest = new string('e', 64), AuditedAt = d.ClosesAt.AddMinutes(2),
            Unconfirmed = unconfirmed, Quarantined = 0, QuarantinedByReason = new Dictionary<string, long>(), AuditNonce = nonce, Digest = "",
        };
        return AuditSignature.Sign(r with { Digest = CertifiedDigest.Compute(r) }, Auditor);
    }
}
