using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FanVote.Contracts.Events;

namespace FanVote.Certification;

/// <summary>
/// The certified result's digest: hex SHA-256 over UTF-8 text, one "name:value" line per field, each ending in
/// '\n', in this order: format, window, candidates (comma-joined), one count per candidate in candidate order,
/// total, winners, accepted, persisted, excluded, excluded-by-reason lines (reason percent-encoded, sorted
/// ordinally), live-total, live-matches, merkle-root, leaf-count, receipt-chunk-size, receipt-chunks, voters,
/// voter-chunks, voters-digest, audited-at (Unix milliseconds), unconfirmed, quarantined, quarantined-by-reason lines
/// (like excluded-by-reason), audit-nonce (percent-encoded). Ids cannot hold ':' ',' or '\n' (they are
/// [A-Za-z0-9_-]), so the text reads back one way only. The signature is not part of the digest: it signs it.
/// </summary>
public static class CertifiedDigest
{
    public const string Format = "fanvote-certified-result-v2";

    public static string Canonical(CertifiedResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var s = new StringBuilder();
        void Line(string name, object value) => s.Append(name).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
        Line("format", Format);
        Line("window", r.WindowId);
        Line("candidates", string.Join(',', r.Candidates));
        foreach (var c in r.Candidates)
        {
            Line("count:" + c, r.Counts.TryGetValue(c, out var n) ? n : 0);
        }

        Line("total", r.Total);
        Line("winners", string.Join(',', r.Winners));
        Line("accepted", r.Accepted);
        Line("persisted", r.Persisted);
        Line("excluded", r.Excluded);
        foreach (var (reason, n) in r.ExcludedByReason.Select(kv => (Uri.EscapeDataString(kv.Key), kv.Value)).OrderBy(kv => kv.Item1, StringComparer.Ordinal))
        {
            Line("excluded-by-reason:" + reason, n);
        }

        Line("live-total", r.LiveTotal);
        Line("live-matches", r.LiveMatches ? "true" : "false");
        Line("merkle-root", r.MerkleRoot.ToLowerInvariant());
        Line("leaf-count", r.LeafCount);
        Line("receipt-chunk-size", r.ReceiptChunkSize);
        Line("receipt-chunks", r.ReceiptChunks);
        Line("voters", r.Voters);
        Line("voter-chunks", r.VoterChunks);
        Line("voters-digest", r.VotersDigest.ToLowerInvariant());
        Line("audited-at", r.AuditedAt.ToUnixTimeMilliseconds());
        Line("unconfirmed", r.Unconfirmed);
        Line("quarantined", r.Quarantined);
        foreach (var (reason, n) in r.QuarantinedByReason.Select(kv => (Uri.EscapeDataString(kv.Key), kv.Value)).OrderBy(kv => kv.Item1, StringComparer.Ordinal))
        {
            Line("quarantined-by-reason:" + reason, n);
        }

        Line("audit-nonce", Uri.EscapeDataString(r.AuditNonce));
        return s.ToString();
    }

    public static string Compute(CertifiedResult r) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(r))));

    /// <summary>True when <see cref="CertifiedResult.Digest"/> is the digest of the other fields.</summary>
    public static bool Matches(CertifiedResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return string.Equals(r.Digest, Compute(r), StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// Digest of a window's counted voters: SHA-256 over "account\tcandidate\tvotes\n" lines in ordinal order of
/// (account, candidate). Tally computes it at the audit, rewards again from what it received, before paying.
/// </summary>
public sealed class VotersDigest : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public void Add(string accountId, string candidateId, long votes) =>
        _hash.AppendData(Encoding.UTF8.GetBytes($"{accountId}\t{candidateId}\t{votes.ToString(CultureInfo.InvariantCulture)}\n"));

    public string Finish() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    /// <summary>The digest of whole voters, given in account order; each voter's candidates are taken in ordinal order.</summary>
    public static string Of(IEnumerable<CountedVoter> voters)
    {
        ArgumentNullException.ThrowIfNull(voters);
        using var digest = new VotersDigest();
        foreach (var v in voters)
        {
            foreach (var (candidate, n) in v.Votes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                digest.Add(v.AccountId, candidate, n);
            }
        }

        return digest.Finish();
    }

    public void Dispose() => _hash.Dispose();
}
