using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FanVote.Rewards.Core;

/// <summary>A head of the ledger recorded outside the database: row <see cref="Seq"/> had hash <see cref="Head"/> at <see cref="At"/>.</summary>
public sealed record LedgerAnchor(long Seq, byte[] Head, DateTimeOffset At);

/// <summary>What an anchor file holds: the anchors whose MAC checks, and the lines that did not (with their line number).</summary>
public sealed record AnchorFile(IReadOnlyList<LedgerAnchor> Anchors, IReadOnlyList<(int Line, string Problem)> Bad)
{
    /// <summary>The anchor with the highest seq: every rewards instance appends to the same store, not always in seq order.</summary>
    public LedgerAnchor? Latest => Anchors.Count == 0 ? null : Anchors.MaxBy(a => a.Seq);
}

/// <summary>
/// Anchor records: one JSON line per anchor, <c>{"v":1,"seq":N,"head":"hex","at":"ISO-8601","mac":"hex"}</c>, the MAC
/// HMAC-SHA256 under the ledger key's anchor key over "fanvote-ledger-anchor-v1", seq, head (hex) and at (Unix ms),
/// each followed by '\n'. Someone who can write the file but lacks the key cannot add an anchor that checks.
/// </summary>
public static class LedgerAnchors
{
    public const string Setting = "FANVOTE_LEDGER_ANCHORS";
    private const string Format = "fanvote-ledger-anchor-v1";

    /// <summary>The line to append (without its newline).</summary>
    public static string Line(LedgerKey key, LedgerAnchor anchor)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(anchor);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(anchor.At.ToUnixTimeMilliseconds());
        return string.Create(CultureInfo.InvariantCulture,
            $$"""{"v":1,"seq":{{anchor.Seq}},"head":"{{Convert.ToHexStringLower(anchor.Head)}}","at":"{{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","mac":"{{Convert.ToHexStringLower(Mac(key, anchor.Seq, anchor.Head, at))}}"}""");
    }

    /// <summary>Reads every line: anchors whose MAC checks, and why each other line does not.</summary>
    public static AnchorFile Read(LedgerKey key, IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(lines);
        var anchors = new List<LedgerAnchor>();
        var bad = new List<(int, string)>();
        var n = 0;
        foreach (var line in lines)
        {
            n++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var (anchor, problem) = Parse(key, line);
            if (anchor is not null)
            {
                anchors.Add(anchor);
            }
            else
            {
                bad.Add((n, problem!));
            }
        }

        return new AnchorFile(anchors, bad);
    }

    private static (LedgerAnchor?, string?) Parse(LedgerKey key, string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("v", out var v) || v.ValueKind != JsonValueKind.Number || v.GetInt32() != 1)
            {
                return (null, "not an anchor record of format 1");
            }

            var seq = r.GetProperty("seq").GetInt64();
            var head = Convert.FromHexString(r.GetProperty("head").GetString() ?? "");
            var at = DateTimeOffset.Parse(r.GetProperty("at").GetString() ?? "", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            var mac = Convert.FromHexString(r.GetProperty("mac").GetString() ?? "");
            return CryptographicOperations.FixedTimeEquals(mac, Mac(key, seq, head, at))
                ? (new LedgerAnchor(seq, head, at), null)
                : (null, "its MAC does not check with the ledger key: it was not written by rewards, or was changed");
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, "not a well-formed anchor record");
        }
    }

    private static byte[] Mac(LedgerKey key, long seq, byte[] head, DateTimeOffset at) =>
        HMACSHA256.HashData(key.AnchorKey, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Format}\n{seq}\n{Convert.ToHexStringLower(head)}\n{at.ToUnixTimeMilliseconds()}\n")));
}
