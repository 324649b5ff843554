using System.Security.Cryptography;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Rewards.Core;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Rewards.Adapters;

/// <summary>A wheel as stored: the definition, its commitment, its times, and its server seed once revealed.</summary>
public sealed record WheelRecord(SpinWheel Wheel, string Commitment, DateTimeOffset OpensAt, DateTimeOffset? ClosesAt, DateTimeOffset? ClosedAt, byte[]? RevealedSeed, string CreatedBy, DateTimeOffset CreatedAt)
{
    /// <summary>"scheduled" before it opens, "open", "closed" after its close time or the operator's close.</summary>
    public string State(DateTimeOffset now) => StateAt(OpensAt, ClosesAt, ClosedAt, now);

    /// <summary>The rule of <see cref="State"/>, from the times alone (the lineup reads only those).</summary>
    public static string StateAt(DateTimeOffset opensAt, DateTimeOffset? closesAt, DateTimeOffset? closedAt, DateTimeOffset now) =>
        closedAt is not null || (closesAt is { } c && now >= c) ? "closed" : now < opensAt ? "scheduled" : "open";
}

/// <summary>One spin as stored and as the fan sees it: enough, with the revealed seed, to recompute its outcome.</summary>
public sealed record SpinOutcome(string SpinId, string WheelId, string AccountId, string SpinKey, long Nonce, string ClientSeed, int Segment, string Label, long Prize, long Cost, long BalanceAfter, DateTimeOffset SpunAt)
{
    /// <summary>True when this answers a spin made before with the same key (a retry or a replay): nothing was spent again.</summary>
    public bool Repeated { get; init; }
}

public enum SpinRefusal
{
    UnknownWheel,
    NotOpenYet,
    Closed,
    NotEnoughPoints,
    KeyReused,
}

/// <summary>A spin's outcome, or why it was refused (nothing spent then).</summary>
public sealed record SpinResult(SpinOutcome? Outcome, SpinRefusal? Refusal = null, long Balance = 0, WheelRecord? Wheel = null);

/// <summary>What a wheel took and paid, for the operator: realised against expected.</summary>
public sealed record WheelReport(long Spins, long Fans, long PointsTaken, long PointsPaid, IReadOnlyList<long> SpinsPerSegment);

/// <summary>
/// Spin wheels in the points ledger's database. A spin is one transaction under the ledger's chain lock: the stored
/// spin for the fan's key if there is one (a retry or replay gets it back, spending nothing), else the fan's next
/// nonce, the provably fair outcome (<see cref="ProvablyFair"/>), the cost and prize entries appended to the ledger
/// (refused if the fan's balance would go below zero) and the spin row. So under any number of concurrent spins a fan
/// spends at most what they hold, and each spin key is spent once.
/// </summary>
public sealed class PostgresSpinWheels(PostgresPointsLedger ledger, LedgerKey key)
{
    private const string WheelColumns = "wheel_id, name, cost, segments, commitment, opens_at, closes_at, closed_at, revealed_seed, created_by, created_at";

    private const string SpinColumns = "spin_id, wheel_id, account_id, spin_key, nonce, client_seed, segment, prize, cost, balance_after, spun_at";

    /// <summary>Creates the wheel; null and the existing record when the id is taken (the caller compares the definitions).</summary>
    public async Task<(bool Created, WheelRecord Record)> CreateAsync(SpinWheel wheel, DateTimeOffset opensAt, DateTimeOffset? closesAt, string createdBy, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(wheel);
        var salt = RandomNumberGenerator.GetBytes(32);
        var commitment = ProvablyFair.Commitment(ProvablyFair.ServerSeed(key, wheel.WheelId, salt));
        await using var cmd = ledger.DataSource.CreateCommand("""
            INSERT INTO spin_wheels (wheel_id, name, cost, segments, seed_salt, commitment, created_by, created_at, opens_at, closes_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (wheel_id) DO NOTHING
            """);
        cmd.Parameters.AddWithValue(wheel.WheelId);
        cmd.Parameters.AddWithValue(wheel.Name);
        cmd.Parameters.AddWithValue(wheel.Cost);
        cmd.Parameters.AddWithValue(JsonSerializer.Serialize(wheel.Segments, FanVoteJson.Options));
        cmd.Parameters.AddWithValue(salt);
        cmd.Parameters.AddWithValue(commitment);
        cmd.Parameters.AddWithValue(createdBy);
        cmd.Parameters.Add(Time(now));
        cmd.Parameters.Add(Time(opensAt));
        cmd.Parameters.Add(Time(closesAt));
        var created = await cmd.ExecuteNonQueryAsync(ct) == 1;
        return (created, (await GetAsync(wheel.WheelId, now, ct))!);
    }

    /// <summary>The wheel, or null. A wheel past its close time has its seed revealed here, on the first read after it.</summary>
    public async Task<WheelRecord?> GetAsync(string wheelId, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        var (record, salt) = await ReadWheelAsync(conn, null, wheelId, ct);
        if (record is not null && record.RevealedSeed is null && record.State(now) == "closed")
        {
            return await RevealAsync(conn, record, salt!, record.ClosedAt ?? record.ClosesAt ?? now, ct);
        }

        return record;
    }

    /// <summary>Closes the wheel now (if it is not closed already) and reveals its server seed. Null for an unknown wheel.</summary>
    public async Task<WheelRecord?> CloseAsync(string wheelId, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        var (record, salt) = await ReadWheelAsync(conn, null, wheelId, ct);
        if (record is null || record.RevealedSeed is not null)
        {
            return record;
        }

        // Spins take the chain lock: closing under it means no spin is half done when the seed is out.
        await using var chain = await ledger.BeginChainAsync(ct);
        var closedAt = record.State(now) == "closed" ? record.ClosedAt ?? record.ClosesAt ?? now : now;
        var revealed = await RevealAsync(chain.Connection, record, salt!, closedAt, ct, chain.Transaction);
        await chain.Transaction.CommitAsync(ct);
        return revealed;
    }

    public async Task<SpinResult> SpinAsync(string wheelId, string accountId, string spinKey, string clientSeed, DateTimeOffset now, CancellationToken ct)
    {
        await using var chain = await ledger.BeginChainAsync(ct);
        var (conn, tx) = (chain.Connection, chain.Transaction);

        var (wheel, salt) = await ReadWheelAsync(conn, tx, wheelId, ct);
        if (wheel is null)
        {
            return new SpinResult(null, SpinRefusal.UnknownWheel);
        }

        await using (var existing = new NpgsqlCommand($"SELECT {SpinColumns} FROM spins WHERE wheel_id = $1 AND account_id = $2 AND spin_key = $3", conn, tx))
        {
            existing.Parameters.AddWithValue(wheelId);
            existing.Parameters.AddWithValue(accountId);
            existing.Parameters.AddWithValue(spinKey);
            await using var r = await existing.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                var before = ReadSpin(r, wheel.Wheel) with { Repeated = true };
                return before.ClientSeed == clientSeed ? new SpinResult(before, Wheel: wheel) : new SpinResult(null, SpinRefusal.KeyReused, Wheel: wheel);
            }
        }

        switch (wheel.State(now))
        {
            case "scheduled":
                return new SpinResult(null, SpinRefusal.NotOpenYet, Wheel: wheel);
            case "closed":
                return new SpinResult(null, SpinRefusal.Closed, Wheel: wheel);
        }

        long nonce;
        await using (var next = new NpgsqlCommand("SELECT coalesce(max(nonce), 0) + 1 FROM spins WHERE wheel_id = $1 AND account_id = $2", conn, tx))
        {
            next.Parameters.AddWithValue(wheelId);
            next.Parameters.AddWithValue(accountId);
            nonce = (long)(await next.ExecuteScalarAsync(ct))!;
        }

        var segment = ProvablyFair.Spin(ProvablyFair.ServerSeed(key, wheelId, salt!), wheel.Wheel, accountId, clientSeed, nonce);
        var prize = wheel.Wheel.Segments[segment].Prize;
        var spinId = ProvablyFair.SpinId(wheelId, accountId, spinKey);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        (int Appended, long HeadSeq, byte[] HeadHash) appended;
        try
        {
            appended = await ledger.AppendAsync(conn, tx, SpinEntries.Scope(spinId), SpinEntries.For(wheel.Wheel, accountId, spinId, prize, at), ct);
        }
        catch (InsufficientPointsException e)
        {
            return new SpinResult(null, SpinRefusal.NotEnoughPoints, e.Balance, wheel);
        }

        var balance = await PostgresPointsLedger.BalanceInAsync(conn, tx, accountId, ct);

        var outcome = new SpinOutcome(spinId, wheelId, accountId, spinKey, nonce, clientSeed, segment, wheel.Wheel.Segments[segment].Label, prize, wheel.Wheel.Cost, balance, at);
        await using (var insert = new NpgsqlCommand($"INSERT INTO spins ({SpinColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", conn, tx))
        {
            insert.Parameters.AddWithValue(outcome.SpinId);
            insert.Parameters.AddWithValue(wheelId);
            insert.Parameters.AddWithValue(accountId);
            insert.Parameters.AddWithValue(spinKey);
            insert.Parameters.AddWithValue(nonce);
            insert.Parameters.AddWithValue(clientSeed);
            insert.Parameters.AddWithValue(segment);
            insert.Parameters.AddWithValue(prize);
            insert.Parameters.AddWithValue(wheel.Wheel.Cost);
            insert.Parameters.AddWithValue(balance);
            insert.Parameters.Add(Time(at));
            await insert.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        await ledger.AnchorAfterCommitAsync(appended.HeadSeq, appended.HeadHash, ct);
        return new SpinResult(outcome, Wheel: wheel);
    }

    /// <summary>The fan's spins (of one wheel, or all), newest first: what the fan checks once the seed is revealed.</summary>
    public async Task<List<SpinOutcome>> SpinsAsync(string accountId, string? wheelId, int limit, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand($"""
            SELECT {string.Join(", ", SpinColumns.Split(", ").Select(c => "s." + c))}, w.segments FROM spins s JOIN spin_wheels w USING (wheel_id)
            WHERE s.account_id = $1 AND ($2::text IS NULL OR s.wheel_id = $2) ORDER BY s.spun_at DESC, s.nonce DESC LIMIT $3
            """);
        cmd.Parameters.AddWithValue(accountId);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)wheelId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.AddWithValue(limit);
        var spins = new List<SpinOutcome>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var segments = JsonSerializer.Deserialize<List<WheelSegment>>(r.GetString(11), FanVoteJson.Options)!;
            spins.Add(ReadSpin(r, segments));
        }

        return spins;
    }

    public async Task<WheelReport> ReportAsync(WheelRecord wheel, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(wheel);
        await using var cmd = ledger.DataSource.CreateCommand("""
            SELECT count(*), count(DISTINCT account_id), coalesce(sum(cost), 0)::bigint, coalesce(sum(prize), 0)::bigint FROM spins WHERE wheel_id = $1
            """);
        cmd.Parameters.AddWithValue(wheel.Wheel.WheelId);
        long spins, fans, taken, paid;
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            (spins, fans, taken, paid) = (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3));
        }

        var perSegment = new long[wheel.Wheel.Segments.Count];
        await using var seg = ledger.DataSource.CreateCommand("SELECT segment, count(*) FROM spins WHERE wheel_id = $1 GROUP BY segment");
        seg.Parameters.AddWithValue(wheel.Wheel.WheelId);
        await using (var r = await seg.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                perSegment[r.GetInt32(0)] = r.GetInt64(1);
            }
        }

        return new WheelReport(spins, fans, taken, paid, perSegment);
    }

    private static SpinOutcome ReadSpin(NpgsqlDataReader r, SpinWheel wheel) => ReadSpin(r, wheel.Segments);

    private static SpinOutcome ReadSpin(NpgsqlDataReader r, IReadOnlyList<WheelSegment> segments)
    {
        var segment = r.GetInt32(6);
        return new SpinOutcome(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetString(5), segment, segments[segment].Label,
            r.GetInt64(7), r.GetInt64(8), r.GetInt64(9), r.GetFieldValue<DateTimeOffset>(10));
    }

    private static async Task<(WheelRecord? Record, byte[]? Salt)> ReadWheelAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string wheelId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT {WheelColumns}, seed_salt FROM spin_wheels WHERE wheel_id = $1", conn, tx);
        cmd.Parameters.AddWithValue(wheelId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return (null, null);
        }

        var segments = JsonSerializer.Deserialize<List<WheelSegment>>(r.GetString(3), FanVoteJson.Options)!;
        var record = new WheelRecord(
            new SpinWheel(r.GetString(0), r.GetString(1), r.GetInt64(2), segments),
            r.GetString(4),
            r.GetFieldValue<DateTimeOffset>(5),
            r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6),
            r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7),
            r.IsDBNull(8) ? null : (byte[])r[8],
            r.GetString(9),
            r.GetFieldValue<DateTimeOffset>(10));
        return (record, (byte[])r[11]);
    }

    private async Task<WheelRecord> RevealAsync(NpgsqlConnection conn, WheelRecord record, byte[] salt, DateTimeOffset closedAt, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var seed = ProvablyFair.ServerSeed(key, record.Wheel.WheelId, salt);
        await using var cmd = new NpgsqlCommand("""
            UPDATE spin_wheels SET closed_at = coalesce(closed_at, $2), revealed_seed = $3 WHERE wheel_id = $1 AND revealed_seed IS NULL
            """, conn, tx);
        cmd.Parameters.AddWithValue(record.Wheel.WheelId);
        cmd.Parameters.Add(Time(closedAt));
        cmd.Parameters.AddWithValue(seed);
        await cmd.ExecuteNonQueryAsync(ct);
        return record with { ClosedAt = record.ClosedAt ?? closedAt, RevealedSeed = seed };
    }

    private static NpgsqlParameter Time(DateTimeOffset? at) =>
        new() { Value = at is { } t ? t.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
