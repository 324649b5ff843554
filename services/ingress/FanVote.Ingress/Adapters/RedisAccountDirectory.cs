using FanVote.Ingress.Core;
using StackExchange.Redis;

namespace FanVote.Ingress.Adapters;

/// <summary>What a sign-in finds: the account, or that it was erased and the device or contact can make a new one only later.</summary>
public sealed record DirectoryEntry(string? AccountId, TimeSpan ErasedFor);

/// <summary>
/// The only link from a person to their account id (see <see cref="AccountIds"/>): <c>ingress:dir:&lt;entry&gt;</c>, a keyed
/// hash of the device (guests) or the phone number or e-mail address, holds the random account id, and
/// <c>ingress:acct:&lt;id&gt;:dir</c> the way back (so an erasure, which knows only the account, can remove it). Both live as
/// long as the account (a year past the last sign-in). An erasure replaces the entry by a marker with no account in it,
/// for <see cref="IngressOptions.SignUpAgainAfterErasure"/>: the same device or contact cannot make a fresh account (and a
/// fresh vote quota) at once; and marks the account id erased (<see cref="RedisAdmissionStore.ErasedKey"/>) for as long as
/// one of its sessions could be renewed, so its tokens vote, renew and change nothing more.
/// </summary>
public sealed class RedisAccountDirectory(IConnectionMultiplexer redis)
{
    private const string Erased = "erased";

    // KEYS: the entry, the derived (old-style) id's created key, its erasure marker, its way back, the new id's way back.
    // ARGV: the derived id, a new random id, the time to live (s), the entry's name.
    // An old-style account (created before the directory, still alive, not erased) is adopted; else the new id.
    private const string ResolveScript = """
        local id = redis.call('GET', KEYS[1])
        if id == 'erased' then return {'erased', redis.call('TTL', KEYS[1])} end
        if not id then
          if redis.call('EXISTS', KEYS[2]) == 1 and redis.call('EXISTS', KEYS[3]) == 0 then
            id = ARGV[1]
            redis.call('SET', KEYS[4], ARGV[4], 'EX', ARGV[3])
          else
            id = ARGV[2]
            redis.call('SET', KEYS[5], ARGV[4], 'EX', ARGV[3])
          end
          redis.call('SET', KEYS[1], id, 'EX', ARGV[3])
        else
          redis.call('EXPIRE', KEYS[1], ARGV[3])
          redis.call('EXPIRE', 'ingress:acct:' .. id .. ':dir', ARGV[3])
        end
        return {'ok', id}
        """;

    // KEYS: the way back, the erasure marker, then the account's own keys to delete. ARGV: the account id, how long the
    // entry's marker stays (s), how long the erasure marker stays (s). Returns whether an entry was unlinked, and how many
    // keys were deleted. Run again, it unlinks and deletes nothing more.
    private const string EraseScript = """
        redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
        local entry = redis.call('GET', KEYS[1])
        local unlinked = 0
        if entry then
          local dir = 'ingress:dir:' .. entry
          if redis.call('GET', dir) == ARGV[1] then
            redis.call('SET', dir, 'erased', 'EX', ARGV[2])
            unlinked = 1
          end
          redis.call('DEL', KEYS[1])
        end
        local n = 0
        for i = 3, #KEYS do n = n + redis.call('DEL', KEYS[i]) end
        return {unlinked, n}
        """;

    /// <summary>The account of <paramref name="entry"/> (made or adopted on first use), its life renewed.</summary>
    public async Task<DirectoryEntry> ResolveAsync(string entry, string derivedId, bool guest)
    {
        var fresh = AccountIds.NewId(guest);
        var r = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(ResolveScript,
            [EntryKey(entry), CreatedKey(derivedId), RedisAdmissionStore.ErasedKey(derivedId), BackKey(derivedId), BackKey(fresh)],
            [derivedId, fresh, (long)RedisAccounts.AccountKeptFor.TotalSeconds, entry]))!;
        return (string)r[0]! == Erased
            ? new DirectoryEntry(null, TimeSpan.FromSeconds(Math.Max(1, (long)r[1])))
            : new DirectoryEntry((string)r[1]!, TimeSpan.Zero);
    }

    /// <summary>Unlinks and deletes the account's keys (those named in <paramref name="accountKeys"/> too); true when a directory entry was unlinked now.</summary>
    public async Task<(bool Unlinked, long Deleted)> EraseAsync(string accountId, IReadOnlyList<string> accountKeys, TimeSpan holdEntry, TimeSpan markErased)
    {
        RedisKey[] keys = [BackKey(accountId), RedisAdmissionStore.ErasedKey(accountId), .. accountKeys.Select(k => (RedisKey)k)];
        var r = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(EraseScript, keys,
            [accountId, (long)Math.Max(1, holdEntry.TotalSeconds), (long)Math.Max(1, markErased.TotalSeconds)]))!;
        return ((long)r[0] == 1, (long)r[1]);
    }

    /// <summary>Whether the fan erased this account (its sessions, while still valid, do nothing more).</summary>
    public Task<bool> IsErasedAsync(string accountId) => redis.GetDatabase().KeyExistsAsync(RedisAdmissionStore.ErasedKey(accountId));

    /// <summary>Whether the account has a directory entry (false once erased, or for an account that never signed in since the directory).</summary>
    public Task<bool> IsLinkedAsync(string accountId) => redis.GetDatabase().KeyExistsAsync(BackKey(accountId));

    public static string CreatedKey(string accountId) => $"ingress:acct:{accountId}:created";

    private static string EntryKey(string entry) => "ingress:dir:" + entry;

    private static string BackKey(string accountId) => $"ingress:acct:{accountId}:dir";
}
