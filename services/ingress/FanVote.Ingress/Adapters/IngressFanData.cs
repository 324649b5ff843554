using System.Text.Json;
using FanVote.Contracts;
using FanVote.Ingress.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace FanVote.Ingress.Adapters;

/// <summary>
/// Ingress's part of a fan's export and erasure. It holds the link from the person to the account (the directory
/// entry: a keyed hash of the device or contact), the account's creation time, the consent record with its history,
/// the birth year and the guardian's state. The erasure removes the link first, so everything other services keep
/// under the account id (votes, Merkle leaves, the points ledger) is no longer anyone's once it is done.
/// </summary>
public sealed class IngressFanData(RedisAccountDirectory directory, RedisConsent consent, StackExchange.Redis.IConnectionMultiplexer redis, IOptions<IngressOptions> options) : IFanDataHolder
{
    public async Task<JsonElement> ExportAsync(string accountId, CancellationToken cancellationToken)
    {
        var record = await consent.ReadAsync(accountId);
        var history = await consent.HistoryAsync(accountId, RedisConsent.HistoryKept);
        var created = await redis.GetDatabase().StringGetAsync(RedisAccountDirectory.CreatedKey(accountId));
        var part = new
        {
            accountId,
            kind = accountId.StartsWith("g_", StringComparison.Ordinal) ? "guest" : "passcode",
            signIn = accountId.StartsWith("g_", StringComparison.Ordinal)
                ? "your device id is kept only as a keyed hash that finds this account"
                : "your phone number or e-mail address is kept only as a keyed hash that finds this account",
            linked = await directory.IsLinkedAsync(accountId),
            erased = await directory.IsErasedAsync(accountId),
            createdAt = created.IsNull ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeSeconds((long)created),
            birthYear = record.BirthYear,
            consent = record.Choices.OrderBy(c => c.Purpose).Select(c => new
            {
                purpose = PurposeNames.Name(c.Purpose),
                granted = c.Granted,
                version = c.Version,
                at = record.ChosenAt.GetValueOrDefault(c.Purpose),
            }),
            guardian = new
            {
                state = record.Guardian.ToString().ToLowerInvariant(),
                at = record.GuardianAt,
                contact = record.GuardianContactHash.Length > 0 ? "kept only as a keyed hash" : null,
            },
            consentHistory = history,
        };
        return JsonSerializer.SerializeToElement(part, FanVoteJson.Options);
    }

    public async Task<ErasureOutcome> EraseAsync(string accountId, CancellationToken cancellationToken)
    {
        var o = options.Value;
        await directory.EraseAsync(accountId,
            [RedisAccountDirectory.CreatedKey(accountId), RedisConsent.RecordKey(accountId), RedisConsent.HistoryKey(accountId)],
            o.SignUpAgainAfterErasure, o.MaxSessionAge + o.TokenLifetime);
        return new ErasureOutcome(
            [
                "the link from your device or phone number or e-mail address to the account (a keyed hash of it)",
                "the account's creation time and birth year",
                "your consent choices and their history, and your guardian's consent with the hash of their contact",
            ],
            [
                $"a keyed hash of your device or contact, linked to no account, for {Days(o.SignUpAgainAfterErasure)}: no new account can be made with it until then, so erasing cannot reset a vote quota",
                $"a marker that the account id is erased, for {Days(o.MaxSessionAge + o.TokenLifetime)}: sessions of the account still valid can no longer vote, renew or change anything",
                "per-window vote keys (vote ids, no personal data) until an hour after each window closes, and a fraud verdict on the account until it expires (30 minutes)",
            ]);
    }

    private static string Days(TimeSpan t)
    {
        var (n, unit) = t.TotalDays >= 1 ? (Math.Round(t.TotalDays, 1), "day") : t.TotalHours >= 1 ? (Math.Round(t.TotalHours, 1), "hour") : (Math.Max(1, Math.Round(t.TotalMinutes)), "minute");
        return $"{n.ToString(System.Globalization.CultureInfo.InvariantCulture)} {unit}{(n == 1 ? "" : "s")}";
    }
}
