using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FanVote.Rewards.Core;

/// <summary>Account names of the points ledger. Every entry moves points from one account to another.</summary>
public static class Accounts
{
    /// <summary>Where points come from: its balance is minus every point ever issued.</summary>
    public const string Issuance = "issuance";

    public static string Fan(string accountId) => "fan:" + accountId;

    /// <summary>A window's reward pool: funded with the whole payout, then paid out to fans (back to 0).</summary>
    public static string Pool(string windowId) => "pool:" + windowId;
}

/// <summary>An entry before it joins the chain.</summary>
public sealed record NewEntry(Guid EntryId, string WindowId, string Debit, string Credit, long Amount, string Reason, DateTimeOffset CreatedAt);

/// <summary>
/// A ledger row. <see cref="Hash"/> = SHA-256 over the canonical text of the content and <see cref="PrevHash"/>
/// (the previous row's hash; 32 zero bytes for the first), so changing, removing or reordering any row breaks the chain.
/// <see cref="Seq"/> is the row's position, 1, 2, 3, ...
/// </summary>
public sealed record LedgerEntry(long Seq, Guid EntryId, string WindowId, string Debit, string Credit, long Amount, string Reason, DateTimeOffset CreatedAt, byte[] PrevHash, byte[] Hash);

/// <summary>The hash chain: how a row's hash is made, and how new entries are appended after a head.</summary>
public static class LedgerChain
{
    public const string Format = "fanvote-points-ledger-v1";

    public static byte[] Genesis { get; } = new byte[32];

    /// <summary>
    /// "fanvote-points-ledger-v1", entry id, window, debit, credit, amount, reason, created-at (Unix ms), previous hash
    /// (hex), each followed by '\n', UTF-8. The position is not hashed: the chain itself is the order.
    /// </summary>
    public static byte[] Hash(Guid entryId, string windowId, string debit, string credit, long amount, string reason, DateTimeOffset createdAt, ReadOnlySpan<byte> prevHash)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{Format}\n{entryId:D}\n{windowId}\n{debit}\n{credit}\n{amount}\n{reason}\n{createdAt.ToUnixTimeMilliseconds()}\n{Convert.ToHexStringLower(prevHash)}\n");
        return SHA256.HashData(Encoding.UTF8.GetBytes(text));
    }

    public static byte[] Hash(LedgerEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Hash(e.EntryId, e.WindowId, e.Debit, e.Credit, e.Amount, e.Reason, e.CreatedAt, e.PrevHash);
    }

    /// <summary>Chains <paramref name="entries"/> after the row (<paramref name="headSeq"/>, <paramref name="headHash"/>); times are kept to the millisecond, as hashed.</summary>
    public static List<LedgerEntry> Append(long headSeq, byte[] headHash, IEnumerable<NewEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var chained = new List<LedgerEntry>();
        var prev = headHash;
        var seq = headSeq;
        foreach (var n in entries)
        {
            if (n.Amount <= 0 || n.Debit == n.Credit)
            {
                throw new ArgumentException($"entry {n.EntryId}: an entry moves a positive amount between two different accounts");
            }

            var at = DateTimeOffset.FromUnixTimeMilliseconds(n.CreatedAt.ToUnixTimeMilliseconds());
            var hash = Hash(n.EntryId, n.WindowId, n.Debit, n.Credit, n.Amount, n.Reason, at, prev);
            chained.Add(new LedgerEntry(++seq, n.EntryId, n.WindowId, n.Debit, n.Credit, n.Amount, n.Reason, at, prev, hash));
            prev = hash;
        }

        return chained;
    }

    /// <summary>Balances implied by the entries: credits minus debits per account.</summary>
    public static Dictionary<string, long> Balances(IEnumerable<LedgerEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var balances = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            balances[e.Debit] = balances.GetValueOrDefault(e.Debit) - e.Amount;
            balances[e.Credit] = balances.GetValueOrDefault(e.Credit) + e.Amount;
        }

        return balances;
    }
}
