using System.Globalization;
using System.Security.Cryptography;

namespace FanVote.Rewards.Core;

public enum FindingKind
{
    /// <summary>The row's content no longer hashes to its stored hash.</summary>
    Changed,

    /// <summary>A row is missing from the chain.</summary>
    Removed,

    /// <summary>A row sits at another position than where it was chained.</summary>
    Reordered,

    /// <summary>A stored balance differs from what the entries add up to.</summary>
    Balance,

    /// <summary>The chain does not end at the head recorded elsewhere.</summary>
    Head,

    /// <summary>The row was chained without the key (format 1) or in a format this verifier does not know.</summary>
    Unkeyed,

    /// <summary>An anchor record whose MAC does not check.</summary>
    Anchor,
}

/// <summary>A head recorded outside the database (an anchor, or one given with --head), and where it came from, for the message.</summary>
public sealed record LedgerHead(long Seq, byte[] Hash, string Source);

/// <summary>One thing wrong with the ledger, naming the row (seq and entry id) where it shows.</summary>
public sealed record LedgerFinding(FindingKind Kind, long? Seq, Guid? EntryId, string Message);

public sealed record LedgerReport(long Rows, IReadOnlyList<LedgerFinding> Findings)
{
    public bool Intact => Findings.Count == 0;
}

/// <summary>
/// Walks the ledger in seq order and checks each row: its hash against its content (changed), its seq against the
/// previous one (removed), and its place in the chain: a row whose previous-hash matches no row lost its predecessor
/// (removed or replaced); a row the chain puts between other rows than its seq does — on both sides, so a row next
/// to a moved one is not blamed — was reordered. Stored balances are checked
/// against the entries (a removed last row shows there), and the chain against heads recorded elsewhere (anchors).
/// Every row's hash is checked with the ledger key; a row in the old unkeyed format is reported, since anyone with
/// the database can forge one.
/// </summary>
public static class LedgerVerifier
{
    public static LedgerReport Verify(LedgerKey key, IReadOnlyList<LedgerEntry> rows, IReadOnlyDictionary<string, long>? storedBalances = null, IEnumerable<LedgerHead>? heads = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(rows);
        var findings = new List<LedgerFinding>();
        var byHash = new Dictionary<string, LedgerEntry>(StringComparer.Ordinal);
        var byPrev = new Dictionary<string, LedgerEntry>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            byHash.TryAdd(Convert.ToHexString(r.Hash), r);
            byPrev.TryAdd(Convert.ToHexString(r.PrevHash), r);
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var seqPred = i > 0 ? rows[i - 1] : null;
            var seqSucc = i + 1 < rows.Count ? rows[i + 1] : null;
            var expectedSeq = (seqPred?.Seq ?? 0) + 1;
            var hash = LedgerChain.Hash(key, row);
            if (hash is null || row.Chain != LedgerChain.Version)
            {
                findings.Add(new(FindingKind.Unkeyed, row.Seq, row.EntryId, hash is null
                    ? S($"row {row.Seq} (entry {row.EntryId}) claims chain format {row.Chain}, which this verifier does not know")
                    : S($"row {row.Seq} (entry {row.EntryId}) is chained without the ledger key (format {row.Chain}): whoever holds the database could have rewritten it")));
            }

            if (hash is not null && !CryptographicOperations.FixedTimeEquals(hash, row.Hash))
            {
                findings.Add(new(FindingKind.Changed, row.Seq, row.EntryId, S($"row {row.Seq} (entry {row.EntryId}) was changed: its content does not match its hash")));
            }

            if (row.Seq > expectedSeq)
            {
                findings.Add(new(FindingKind.Removed, expectedSeq, null, row.Seq == expectedSeq + 1
                    ? S($"row {expectedSeq} was removed (the ledger goes from row {expectedSeq - 1} to row {row.Seq})")
                    : S($"rows {expectedSeq}-{row.Seq - 1} were removed (the ledger goes from row {expectedSeq - 1} to row {row.Seq})")));
            }

            // Where the chain puts the row (the rows it was chained after and before) against where its seq puts it.
            var isFirst = row.PrevHash.AsSpan().SequenceEqual(LedgerChain.Genesis);
            var chainPred = isFirst ? null : byHash.GetValueOrDefault(Convert.ToHexString(row.PrevHash));
            var chainSucc = byPrev.GetValueOrDefault(Convert.ToHexString(row.Hash));
            if (!isFirst && chainPred is null)
            {
                if (row.Seq == expectedSeq)
                {
                    findings.Add(new(FindingKind.Removed, row.Seq, row.EntryId,
                        S($"the row chained before row {row.Seq} (entry {row.EntryId}) is missing: it was removed or replaced")));
                }

                continue;
            }

            if (chainPred != seqPred && chainSucc != seqSucc)
            {
                findings.Add(new(FindingKind.Reordered, row.Seq, row.EntryId, S(
                    $"row {row.Seq} (entry {row.EntryId}) is out of order: it was chained after {Describe(chainPred)} and before {Describe(chainSucc)}")));
            }
        }

        if (storedBalances is not null)
        {
            var computed = LedgerChain.Balances(rows);
            foreach (var account in computed.Keys.Union(storedBalances.Keys).Order(StringComparer.Ordinal))
            {
                var (want, have) = (computed.GetValueOrDefault(account), storedBalances.GetValueOrDefault(account));
                if (want != have)
                {
                    findings.Add(new(FindingKind.Balance, null, null, S($"account {account} holds {have} points but its entries add up to {want}: an entry of it was removed or changed")));
                }
            }
        }

        foreach (var a in heads ?? [])
        {
            var last = rows.Count > 0 ? rows[^1] : null;
            var at = rows.FirstOrDefault(r => r.Seq == a.Seq);
            if (at is null || !at.Hash.AsSpan().SequenceEqual(a.Hash))
            {
                findings.Add(new(FindingKind.Head, a.Seq, at?.EntryId, at is null
                    ? S($"row {a.Seq}, recorded as a head of the ledger ({a.Source}), is missing: the ledger ends at row {last?.Seq ?? 0}, rows were removed from its end")
                    : S($"row {a.Seq} (entry {at.EntryId}) is not the row recorded as a head of the ledger ({a.Source}): its hash differs")));
            }
        }

        return new LedgerReport(rows.Count, findings);
    }

    private static string S(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Describe(LedgerEntry? row) => row is null ? "nothing" : S($"entry {row.EntryId} (now row {row.Seq})");
}
