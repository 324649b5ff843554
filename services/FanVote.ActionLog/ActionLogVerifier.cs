using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FanVote.Security;

namespace FanVote.ActionLog;

public enum ActionFindingKind
{
    /// <summary>The row's content no longer hashes to its stored hash (or its hash was replaced).</summary>
    Changed,

    /// <summary>Rows are missing: a gap in the positions, or a row whose predecessor in the chain is gone.</summary>
    Removed,

    /// <summary>A row sits at another position than where it was chained.</summary>
    Reordered,

    /// <summary>The log does not reach a head recorded outside it (an anchor): its tail was cut or rewritten.</summary>
    Head,

    /// <summary>An anchor record whose MAC does not check.</summary>
    Anchor,
}

/// <summary>One thing wrong with the log, naming the row where it shows.</summary>
public sealed record ActionFinding(ActionFindingKind Kind, long? Seq, string Message);

public sealed record ActionLogReport(long Rows, IReadOnlyList<ActionFinding> Findings)
{
    public bool Intact => Findings.Count == 0;
}

/// <summary>
/// Walks the log in seq order: each row's hash against its content (changed), its seq against the previous row's
/// (removed, reordered), its previous hash against the previous row's hash (a row chained after another than the one
/// before it: removed or replaced, or reordered when that row is elsewhere in the log), then the heads recorded
/// outside it (the latest anchor): the row at the anchor's seq must be there with the anchor's hash, so a cut tail or a
/// re-chained log shows even though a keyed chain alone cannot show a cut tail.
/// </summary>
public static class ActionLogVerifier
{
    public static ActionLogReport Verify(ActionLogKey key, IReadOnlyList<ActionRecord> rows, AnchorFile? anchors = null, string anchorSource = "the anchor file")
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(rows);
        var findings = new List<ActionFinding>();
        var byHash = rows.GroupBy(r => r.Hash, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        ActionRecord? previous = null;
        foreach (var row in rows)
        {
            var expected = (previous?.Seq ?? 0) + 1;
            if (!Same(ActionChain.Hash(key, row), row.Hash))
            {
                findings.Add(new(ActionFindingKind.Changed, row.Seq, S($"row {row.Seq} ({row.Action} by {row.Actor}, id {row.Id}) was changed: its content does not match its hash")));
            }

            if (row.Seq > expected)
            {
                findings.Add(new(ActionFindingKind.Removed, expected, row.Seq == expected + 1
                    ? S($"row {expected} was removed (the log goes from row {expected - 1} to row {row.Seq})")
                    : S($"rows {expected}-{row.Seq - 1} were removed (the log goes from row {expected - 1} to row {row.Seq})")));
            }
            else if (row.Seq < expected)
            {
                findings.Add(new(ActionFindingKind.Reordered, row.Seq, S($"row {row.Seq} (id {row.Id}) comes after row {previous!.Seq}: positions repeat or go back")));
            }
            else
            {
                var chainedAfter = previous?.Hash ?? ActionChain.Genesis;
                if (!Same(row.PrevHash, chainedAfter))
                {
                    findings.Add(byHash.TryGetValue(row.PrevHash, out var pred)
                        ? new(ActionFindingKind.Reordered, row.Seq, S($"row {row.Seq} (id {row.Id}) is out of order: it was chained after row {pred.Seq} (id {pred.Id})"))
                        : new(ActionFindingKind.Removed, row.Seq, S($"the row chained before row {row.Seq} (id {row.Id}) is missing: it was removed or replaced")));
                }
            }

            previous = row;
        }

        foreach (var (line, problem) in anchors?.Bad ?? [])
        {
            findings.Add(new(ActionFindingKind.Anchor, null, S($"line {line} of {anchorSource}: {problem}")));
        }

        if (anchors?.Latest is { } latest)
        {
            var at = rows.FirstOrDefault(r => r.Seq == latest.Seq);
            if (at is null || !Same(at.Hash, Convert.ToHexStringLower(latest.Head)))
            {
                findings.Add(new(ActionFindingKind.Head, latest.Seq, at is null
                    ? S($"row {latest.Seq}, recorded as the log's head in {anchorSource} at {latest.At:u}, is missing: the log ends at row {(rows.Count > 0 ? rows[^1].Seq : 0)}, rows were removed from its end")
                    : S($"row {latest.Seq} is not the row recorded as the log's head in {anchorSource} at {latest.At:u}: its hash differs (the log was re-chained)")));
            }
        }

        return new ActionLogReport(rows.Count, findings);
    }

    private static bool Same(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a.ToLowerInvariant()), Encoding.ASCII.GetBytes(b.ToLowerInvariant()));

    private static string S(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
