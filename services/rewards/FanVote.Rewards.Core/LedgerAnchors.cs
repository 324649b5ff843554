using FanVote.Security;

namespace FanVote.Rewards.Core;

/// <summary>
/// The ledger's anchor records (<see cref="ChainAnchors"/>, format "fanvote-ledger-anchor-v1"): the MAC is under the
/// ledger key's anchor key. Someone who can write the file but lacks the key cannot add an anchor that checks.
/// </summary>
public static class LedgerAnchors
{
    public const string Setting = "FANVOTE_LEDGER_ANCHORS";
    private const string Format = "fanvote-ledger-anchor-v1";

    /// <summary>The ledger's anchor format under <paramref name="key"/>.</summary>
    public static ChainAnchors For(LedgerKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new ChainAnchors(Format, key.AnchorKey, "rewards");
    }

    /// <summary>The line to append (without its newline).</summary>
    public static string Line(LedgerKey key, ChainAnchor anchor) => For(key).Line(anchor);

    /// <summary>Reads every line: anchors whose MAC checks, and why each other line does not.</summary>
    public static AnchorFile Read(LedgerKey key, IEnumerable<string> lines) => For(key).Read(lines);
}
