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

    /// <summary>A spin wheel's account: takes each spin's cost, pays its prizes; its balance is what the house kept.</summary>
    public static string Wheel(string wheelId) => "wheel:" + wheelId;

    /// <summary>A raffle's account: takes paid tickets, pays points prizes.</summary>
    public static string Raffle(string raffleId) => "raffle:" + raffleId;

    /// <summary>True for a fan's account, which never goes below zero (the other accounts may: issuance, a generous wheel).</summary>
    public static bool IsFan(string account) => account.StartsWith("fan:", StringComparison.Ordinal);
}

/// <summary>An entry before it joins the chain.</summary>
public sealed record NewEntry(Guid EntryId, string WindowId, string Debit, string Credit, long Amount, string Reason, DateTimeOffset CreatedAt);

/// <summary>
/// A ledger row. <see cref="Hash"/> = HMAC-SHA256, under the ledger key, over the canonical text of the content and
/// <see cref="PrevHash"/> (the previous row's hash; 32 zero bytes for the first), so changing, removing or reordering
/// any row breaks the chain, and only a holder of the key can chain a row. <see cref="Seq"/> is the row's position, 1,
/// 2, 3, ... <see cref="Chain"/> is the format the row was chained in (<see cref="LedgerChain.Version"/>; 1 = the old
/// unkeyed SHA-256 chain, which the verifier reports).
/// </summary>
public sealed record LedgerEntry(long Seq, Guid EntryId, string WindowId, string Debit, string Credit, long Amount, string Reason, DateTimeOffset CreatedAt, byte[] PrevHash, byte[] Hash)
{
    public int Chain { get; init; } = LedgerChain.Version;
}

/// <summary>
/// The ledger key (FANVOTE_LEDGER_KEY, 32+ bytes): only rewards, which chains rows and records anchors, and the
/// verifier hold it; the database never does. Two keys are derived from it (HKDF-SHA256), one for the chain and one
/// for the anchor records, so neither kind of MAC can be passed off as the other.
/// </summary>
public sealed class LedgerKey
{
    public const string Setting = "FANVOTE_LEDGER_KEY";

    public LedgerKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 32)
        {
            throw new ArgumentException("the ledger key needs at least 32 bytes", nameof(key));
        }

        ChainKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: Encoding.UTF8.GetBytes("fanvote\nledger-chain"));
        AnchorKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: Encoding.UTF8.GetBytes("fanvote\nledger-anchors"));
        SpinSeedKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: Encoding.UTF8.GetBytes("fanvote\nspin-seeds"));
    }

    internal byte[] ChainKey { get; }

    internal byte[] AnchorKey { get; }

    /// <summary>Derives the spin wheels' server seeds (<see cref="ProvablyFair.ServerSeed"/>).</summary>
    internal byte[] SpinSeedKey { get; }
}

/// <summary>The hash chain: how a row's hash is made, and how new entries are appended after a head.</summary>
public static class LedgerChain
{
    /// <summary>The chain format rewards writes (the `chain` column): 2 = HMAC-SHA256 under the ledger key.</summary>
    public const int Version = 2;

    /// <summary>The format before the key (SHA-256, no key): anyone with the database could recompute it.</summary>
    public const int UnkeyedVersion = 1;

    public const string Format = "fanvote-points-ledger-v2";

    private const string UnkeyedFormat = "fanvote-points-ledger-v1";

    public static byte[] Genesis { get; } = new byte[32];

    /// <summary>
    /// HMAC-SHA256 (the key's chain key) over "fanvote-points-ledger-v2", entry id, window, debit, credit, amount,
    /// reason, created-at (Unix ms), previous hash (hex), each followed by '\n', UTF-8. The position is not hashed: the
    /// chain itself is the order.
    /// </summary>
    public static byte[] Hash(LedgerKey key, Guid entryId, string windowId, string debit, string credit, long amount, string reason, DateTimeOffset createdAt, ReadOnlySpan<byte> prevHash)
    {
        ArgumentNullException.ThrowIfNull(key);
        return HMACSHA256.HashData(key.ChainKey, Canonical(Format, entryId, windowId, debit, credit, amount, reason, createdAt, prevHash));
    }

    /// <summary>The row's hash in the format it says it was chained in; null for a format this verifier does not know.</summary>
    public static byte[]? Hash(LedgerKey key, LedgerEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Chain switch
        {
            Version => Hash(key, e.EntryId, e.WindowId, e.Debit, e.Credit, e.Amount, e.Reason, e.CreatedAt, e.PrevHash),
            UnkeyedVersion => UnkeyedHash(e),
            _ => null,
        };
    }

    /// <summary>The old unkeyed hash (format 1): what anyone holding only the database can compute. For tests and migration checks.</summary>
    public static byte[] UnkeyedHash(LedgerEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return SHA256.HashData(Canonical(UnkeyedFormat, e.EntryId, e.WindowId, e.Debit, e.Credit, e.Amount, e.Reason, e.CreatedAt, e.PrevHash));
    }

    private static byte[] Canonical(string format, Guid entryId, string windowId, string debit, string credit, long amount, string reason, DateTimeOffset createdAt, ReadOnlySpan<byte> prevHash) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{format}\n{entryId:D}\n{windowId}\n{debit}\n{credit}\n{amount}\n{reason}\n{createdAt.ToUnixTimeMilliseconds()}\n{Convert.ToHexStringLower(prevHash)}\n"));

    /// <summary>Chains <paramref name="entries"/> after the row (<paramref name="headSeq"/>, <paramref name="headHash"/>); times are kept to the millisecond, as hashed.</summary>
    public static List<LedgerEntry> Append(LedgerKey key, long headSeq, byte[] headHash, IEnumerable<NewEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(key);
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
            var hash = Hash(key, n.EntryId, n.WindowId, n.Debit, n.Credit, n.Amount, n.Reason, at, prev);
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

/// <summary>A fan tried to spend more points than they hold; nothing was appended.</summary>
public sealed class InsufficientPointsException(string account, long balance, long needed)
    : InvalidOperationException($"{account} holds {balance} points and needs {needed}")
{
    public string Account { get; } = account;

    public long Balance { get; } = balance;

    public long Needed { get; } = needed;
}
