using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FanVote.Security;

/// <summary>A head of a hash chain recorded outside its store: row <see cref="Seq"/> had hash <see cref="Head"/> at <see cref="At"/>.</summary>
public sealed record ChainAnchor(long Seq, byte[] Head, DateTimeOffset At);

/// <summary>What an anchor file holds: the anchors whose MAC checks, and the lines that did not (with their line number).</summary>
public sealed record AnchorFile(IReadOnlyList<ChainAnchor> Anchors, IReadOnlyList<(int Line, string Problem)> Bad)
{
    /// <summary>The anchor with the highest seq: every instance appends to the same file, not always in seq order.</summary>
    public ChainAnchor? Latest => Anchors.Count == 0 ? null : Anchors.MaxBy(a => a.Seq);
}

/// <summary>
/// Anchor records of one keyed chain (the points ledger, the operator action log): one JSON line per anchor,
/// <c>{"v":1,"seq":N,"head":"hex","at":"ISO-8601","mac":"hex"}</c>, the MAC HMAC-SHA256 under the chain's anchor key
/// over <paramref name="format"/>, seq, head (hex) and at (Unix ms), each followed by '\n'. Someone who can write the
/// file but lacks the key cannot add an anchor that checks; a format per chain keeps one chain's anchors from passing
/// as another's. <paramref name="writer"/> names who writes them, for the reader's messages.
/// </summary>
public sealed class ChainAnchors(string format, byte[] anchorKey, string writer)
{
    /// <summary>The line to append (without its newline).</summary>
    public string Line(ChainAnchor anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(anchor.At.ToUnixTimeMilliseconds());
        return string.Create(CultureInfo.InvariantCulture,
            $$"""{"v":1,"seq":{{anchor.Seq}},"head":"{{Convert.ToHexStringLower(anchor.Head)}}","at":"{{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","mac":"{{Convert.ToHexStringLower(Mac(anchor.Seq, anchor.Head, at))}}"}""");
    }

    /// <summary>Reads every line: anchors whose MAC checks, and why each other line does not.</summary>
    public AnchorFile Read(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var anchors = new List<ChainAnchor>();
        var bad = new List<(int, string)>();
        var n = 0;
        foreach (var line in lines)
        {
            n++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var (anchor, problem) = Parse(line);
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

    private (ChainAnchor?, string?) Parse(string line)
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
            return CryptographicOperations.FixedTimeEquals(mac, Mac(seq, head, at))
                ? (new ChainAnchor(seq, head, at), null)
                : (null, $"its MAC does not check with the key: it was not written by {writer}, or was changed");
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, "not a well-formed anchor record");
        }
    }

    private byte[] Mac(long seq, byte[] head, DateTimeOffset at) =>
        HMACSHA256.HashData(anchorKey, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{format}\n{seq}\n{Convert.ToHexStringLower(head)}\n{at.ToUnixTimeMilliseconds()}\n")));
}
