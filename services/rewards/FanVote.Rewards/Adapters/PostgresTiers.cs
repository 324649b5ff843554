using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Rewards.Adapters;

/// <summary>A fan's standing: earned points over the season counted, and the tier they give.</summary>
public sealed record FanStanding(string AccountId, long Earned, VipTier Tier, VipTier? Next, string Season);

/// <summary>
/// VIP tiers in the ledger's database. <see cref="RecordEarnedAsync"/> runs inside every ledger append (under the chain
/// lock, in its transaction): it adds what the append earned each fan (<see cref="VipTiers.Earns"/>) to `fan_earned` for
/// the season counted, and when that moves a fan to another tier, updates the tier and writes the change to the
/// `tier_changes` outbox, so a tier changes exactly when the credit commits. <see cref="TierPublisher"/> publishes the outbox.
/// </summary>
public sealed class PostgresTiers(VipTiers tiers)
{
    public VipTiers Tiers => tiers;

    internal async Task RecordEarnedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<LedgerEntry> chained, DateTimeOffset at, CancellationToken ct)
    {
        var earned = chained.Where(e => VipTiers.Earns(e.Debit, e.Credit))
            .GroupBy(e => e.Credit["fan:".Length..], StringComparer.Ordinal)
            .Select(g => (Account: g.Key, Points: g.Sum(e => e.Amount)))
            .ToList();
        if (earned.Count == 0)
        {
            return;
        }

        var now = new List<(string Account, long Earned, string Tier)>();
        await using (var up = new NpgsqlCommand("""
            INSERT INTO fan_earned (account_id, season, earned, tier) SELECT a, $3, p, $4 FROM unnest($1::text[], $2::bigint[]) AS d(a, p)
            ON CONFLICT (account_id, season) DO UPDATE SET earned = fan_earned.earned + excluded.earned
            RETURNING account_id, earned, tier
            """, conn, tx))
        {
            up.Parameters.Add(new NpgsqlParameter { Value = earned.Select(e => e.Account).ToArray() });
            up.Parameters.Add(new NpgsqlParameter { Value = earned.Select(e => e.Points).ToArray() });
            up.Parameters.AddWithValue(tiers.Season);
            up.Parameters.AddWithValue(tiers.Tiers[0].Name);
            await using var r = await up.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                now.Add((r.GetString(0), r.GetInt64(1), r.GetString(2)));
            }
        }

        var changed = now.Select(n => (n.Account, n.Earned, From: n.Tier, To: tiers.For(n.Earned).Name)).Where(c => c.From != c.To).ToList();
        if (changed.Count == 0)
        {
            return;
        }

        await using (var set = new NpgsqlCommand("""
            UPDATE fan_earned f SET tier = d.t FROM unnest($1::text[], $2::text[]) AS d(a, t) WHERE f.account_id = d.a AND f.season = $3
            """, conn, tx))
        {
            set.Parameters.Add(new NpgsqlParameter { Value = changed.Select(c => c.Account).ToArray() });
            set.Parameters.Add(new NpgsqlParameter { Value = changed.Select(c => c.To).ToArray() });
            set.Parameters.AddWithValue(tiers.Season);
            await set.ExecuteNonQueryAsync(ct);
        }

        await using var outbox = new NpgsqlCommand("""
            INSERT INTO tier_changes (account_id, season, from_tier, to_tier, earned, changed_at)
            SELECT a, $5, f, t, e, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS d(a, f, t, e)
            """, conn, tx);
        outbox.Parameters.Add(new NpgsqlParameter { Value = changed.Select(c => c.Account).ToArray() });
        outbox.Parameters.Add(new NpgsqlParameter { Value = changed.Select(c => c.From).ToArray() });
        outbox.Parameters.Add(new NpgsqlParameter { Value = changed.Select(c => c.To).ToArray() });
        outbox.Parameters.Add(new NpgsqlParameter { Value = changed.Select(c => c.Earned).ToArray() });
        outbox.Parameters.AddWithValue(tiers.Season);
        outbox.Parameters.Add(new NpgsqlParameter { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await outbox.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The fan's standing in the season counted now (inside a transaction when given one: raffle entries read it under the chain lock).</summary>
    public async Task<FanStanding> StandingAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string accountId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conn);
        await using var cmd = new NpgsqlCommand("SELECT earned FROM fan_earned WHERE account_id = $1 AND season = $2", conn, tx);
        cmd.Parameters.AddWithValue(accountId);
        cmd.Parameters.AddWithValue(tiers.Season);
        var earned = await cmd.ExecuteScalarAsync(ct) is long e ? e : 0;
        var tier = tiers.For(earned);
        return new FanStanding(accountId, earned, tier, tiers.Next(tier), tiers.Season);
    }

    /// <summary>For a fan's export: their earned points and tier per season, and every tier change.</summary>
    public static async Task<object> ExportAsync(NpgsqlDataSource db, string accountId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var seasons = new List<object>();
        await using (var cmd = db.CreateCommand("SELECT season, earned, tier FROM fan_earned WHERE account_id = $1 ORDER BY season"))
        {
            cmd.Parameters.AddWithValue(accountId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                seasons.Add(new { season = r.GetString(0), earned = r.GetInt64(1), tier = r.GetString(2) });
            }
        }

        var changes = new List<object>();
        await using (var cmd = db.CreateCommand("SELECT season, from_tier, to_tier, earned, changed_at FROM tier_changes WHERE account_id = $1 ORDER BY seq"))
        {
            cmd.Parameters.AddWithValue(accountId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                changes.Add(new { season = r.GetString(0), from = r.GetString(1), to = r.GetString(2), earned = r.GetInt64(3), at = r.GetFieldValue<DateTimeOffset>(4) });
            }
        }

        return new { seasons, changes };
    }

    /// <summary>Up to <paramref name="max"/> tier changes not yet published, oldest first, as events with stable ids.</summary>
    public static async Task<List<(long Seq, TierChanged Event)>> PendingAsync(NpgsqlDataSource db, VipTiers tiers, int max, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tiers);
        await using var cmd = db.CreateCommand("""
            SELECT seq, account_id, season, from_tier, to_tier, earned, changed_at FROM tier_changes WHERE published_at IS NULL ORDER BY seq LIMIT $1
            """);
        cmd.Parameters.AddWithValue(max);
        var pending = new List<(long, TierChanged)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var seq = r.GetInt64(0);
            pending.Add((seq, new TierChanged
            {
                EventId = EventIds.Stable("tier-change", seq.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                OccurredAt = r.GetFieldValue<DateTimeOffset>(6),
                AccountId = r.GetString(1),
                Season = r.GetString(2),
                From = r.GetString(3),
                To = r.GetString(4),
                Earned = r.GetInt64(5),
                Badge = tiers.Named(r.GetString(4))?.Badge,
            }));
        }

        return pending;
    }

    public static async Task MarkPublishedAsync(NpgsqlDataSource db, IReadOnlyList<long> seqs, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        await using var cmd = db.CreateCommand("UPDATE tier_changes SET published_at = $2 WHERE seq = ANY($1)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = seqs.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
