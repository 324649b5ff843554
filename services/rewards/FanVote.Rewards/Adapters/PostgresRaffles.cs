using System.Security.Cryptography;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Rewards.Core;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Rewards.Adapters;

/// <summary>A raffle as stored: the definition, its times, its commitment, and once drawn the seed, the list's digest and the winners.</summary>
public sealed record RaffleRecord(
    Raffle Raffle, string Commitment, DateTimeOffset OpensAt, DateTimeOffset ClosesAt, DateTimeOffset DrawAt, DateTimeOffset? DrawnAt, byte[]? RevealedSeed,
    string? EntriesDigest, IReadOnlyList<RaffleWinner>? Winners, long TicketsTaken, string CreatedBy)
{
    /// <summary>"scheduled" before entries open, "open", "closed" (entries closed, not drawn yet), "drawn".</summary>
    public string State(DateTimeOffset now) => StateAt(OpensAt, ClosesAt, DrawnAt, now);

    /// <summary>The rule of <see cref="State"/>, from the times alone (the lineup reads only those).</summary>
    public static string StateAt(DateTimeOffset opensAt, DateTimeOffset closesAt, DateTimeOffset? drawnAt, DateTimeOffset now) =>
        drawnAt is not null ? "drawn" : now < opensAt ? "scheduled" : now < closesAt ? "open" : "closed";
}

/// <summary>A fan's entry: its tickets and what they cost, or why it was refused (nothing spent then).</summary>
public sealed record RaffleEntryOutcome(string RaffleId, string EntryKey, string Holder, long FirstTicket, int Tickets, long Cost, long? BalanceAfter, bool Repeated);

public enum EntryRefusal
{
    UnknownRaffle,
    NotOpenYet,
    Closed,
    OverCap,
    TierTooLow,
    NotEnoughPoints,
    KeyReused,
}

public sealed record RaffleEntryResult(RaffleEntryOutcome? Outcome, EntryRefusal? Refusal = null, RaffleRecord? Raffle = null, long Held = 0, long Balance = 0)
{
    /// <summary>The fan's VIP standing, when the refusal depends on it (cap, tier).</summary>
    public FanStanding? Standing { get; init; }
}

/// <summary>
/// Raffles in the points ledger's database. Entries and the draw run under the ledger's chain lock: an entry reads the
/// fan's tickets so far (the cap), takes the next ticket numbers and, for a paid raffle, appends the payment (refused
/// below zero) in one transaction; the same entry key again answers the same tickets. The draw freezes the entry list,
/// reveals the seed, draws (<see cref="RaffleDraw"/>), credits points prizes and stores the winners, in one transaction.
/// </summary>
public sealed class PostgresRaffles(PostgresPointsLedger ledger, LedgerKey key, PostgresTiers tiers)
{
    private const string Columns = "raffle_id, name, ticket_cost, max_tickets, prizes, commitment, opens_at, closes_at, draw_at, drawn_at, revealed_seed, entries_digest, winners, created_by, min_tier";

    public async Task<(bool Created, RaffleRecord Record)> CreateAsync(Raffle raffle, DateTimeOffset opensAt, DateTimeOffset closesAt, DateTimeOffset drawAt, string createdBy, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(raffle);
        var salt = RandomNumberGenerator.GetBytes(32);
        await using var cmd = ledger.DataSource.CreateCommand("""
            INSERT INTO raffles (raffle_id, name, ticket_cost, max_tickets, prizes, seed_salt, commitment, created_by, created_at, opens_at, closes_at, draw_at, min_tier)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (raffle_id) DO NOTHING
            """);
        cmd.Parameters.AddWithValue(raffle.RaffleId);
        cmd.Parameters.AddWithValue(raffle.Name);
        cmd.Parameters.AddWithValue(raffle.TicketCost);
        cmd.Parameters.AddWithValue(raffle.MaxTicketsPerFan);
        cmd.Parameters.AddWithValue(JsonSerializer.Serialize(raffle.Prizes, FanVoteJson.Options));
        cmd.Parameters.AddWithValue(salt);
        cmd.Parameters.AddWithValue(ProvablyFair.Commitment(RaffleDraw.ServerSeed(key, raffle.RaffleId, salt)));
        cmd.Parameters.AddWithValue(createdBy);
        cmd.Parameters.Add(Time(now));
        cmd.Parameters.Add(Time(opensAt));
        cmd.Parameters.Add(Time(closesAt));
        cmd.Parameters.Add(Time(drawAt));
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)raffle.MinTier ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        var created = await cmd.ExecuteNonQueryAsync(ct) == 1;
        return (created, (await GetAsync(raffle.RaffleId, ct))!);
    }

    public async Task<RaffleRecord?> GetAsync(string raffleId, CancellationToken ct)
    {
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        return (await ReadAsync(conn, null, raffleId, ct)).Record;
    }

    public async Task<RaffleEntryResult> EnterAsync(string raffleId, string accountId, string entryKey, int tickets, DateTimeOffset now, CancellationToken ct)
    {
        await using var chain = await ledger.BeginChainAsync(ct);
        var (conn, tx) = (chain.Connection, chain.Transaction);
        var (raffle, _) = await ReadAsync(conn, tx, raffleId, ct);
        if (raffle is null)
        {
            return new RaffleEntryResult(null, EntryRefusal.UnknownRaffle);
        }

        await using (var existing = new NpgsqlCommand("SELECT holder, first_ticket, tickets, cost FROM raffle_entries WHERE raffle_id = $1 AND account_id = $2 AND entry_key = $3", conn, tx))
        {
            existing.Parameters.AddWithValue(raffleId);
            existing.Parameters.AddWithValue(accountId);
            existing.Parameters.AddWithValue(entryKey);
            await using var r = await existing.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                return r.GetInt32(2) == tickets
                    ? new RaffleEntryResult(new RaffleEntryOutcome(raffleId, entryKey, r.GetString(0), r.GetInt64(1), r.GetInt32(2), r.GetInt64(3), null, Repeated: true), Raffle: raffle)
                    : new RaffleEntryResult(null, EntryRefusal.KeyReused, raffle);
            }
        }

        switch (raffle.State(now))
        {
            case "scheduled":
                return new RaffleEntryResult(null, EntryRefusal.NotOpenYet, raffle);
            case "closed" or "drawn":
                return new RaffleEntryResult(null, EntryRefusal.Closed, raffle);
        }

        // The raffle's counter (read under the chain lock) gives the next ticket; the fan's own rows their tickets so far.
        var next = raffle.TicketsTaken + 1;
        long held;
        await using (var counts = new NpgsqlCommand("SELECT coalesce(sum(tickets), 0)::bigint FROM raffle_entries WHERE raffle_id = $1 AND account_id = $2", conn, tx))
        {
            counts.Parameters.AddWithValue(raffleId);
            counts.Parameters.AddWithValue(accountId);
            held = (long)(await counts.ExecuteScalarAsync(ct))!;
        }

        // VIP: a raffle for a tier and above refuses the others; each tier's extra tickets raise the cap for its fans.
        var standing = await tiers.StandingAsync(conn, tx, accountId, ct);
        if (!tiers.Tiers.Admits(standing.Tier, raffle.Raffle.MinTier))
        {
            return new RaffleEntryResult(null, EntryRefusal.TierTooLow, raffle, held) { Standing = standing };
        }

        if (held + tickets > raffle.Raffle.MaxTicketsPerFan + standing.Tier.ExtraTickets)
        {
            return new RaffleEntryResult(null, EntryRefusal.OverCap, raffle, held) { Standing = standing };
        }

        var cost = raffle.Raffle.TicketCost * tickets;
        long? balance = null;
        (int Appended, long HeadSeq, byte[] HeadHash) appended = default;
        if (cost > 0)
        {
            try
            {
                appended = await ledger.AppendAsync(conn, tx, RaffleEntries.EntryScope(raffleId, accountId, entryKey),
                    [RaffleEntries.Tickets(raffleId, accountId, entryKey, cost, DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds()))], ct);
            }
            catch (InsufficientPointsException e)
            {
                return new RaffleEntryResult(null, EntryRefusal.NotEnoughPoints, raffle, held, e.Balance);
            }

            balance = await PostgresPointsLedger.BalanceInAsync(conn, tx, accountId, ct);
        }

        var holder = RaffleDraw.Holder(raffleId, accountId);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO raffle_entries (raffle_id, account_id, entry_key, holder, first_ticket, tickets, cost, entered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, conn, tx))
        {
            insert.Parameters.AddWithValue(raffleId);
            insert.Parameters.AddWithValue(accountId);
            insert.Parameters.AddWithValue(entryKey);
            insert.Parameters.AddWithValue(holder);
            insert.Parameters.AddWithValue(next);
            insert.Parameters.AddWithValue(tickets);
            insert.Parameters.AddWithValue(cost);
            insert.Parameters.Add(Time(now));
            await insert.ExecuteNonQueryAsync(ct);
        }

        await using (var count = new NpgsqlCommand("UPDATE raffles SET tickets_taken = tickets_taken + $2 WHERE raffle_id = $1", conn, tx))
        {
            count.Parameters.AddWithValue(raffleId);
            count.Parameters.AddWithValue((long)tickets);
            await count.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        if (appended.Appended > 0)
        {
            await ledger.AnchorAfterCommitAsync(appended.HeadSeq, appended.HeadHash!, ct);
        }

        return new RaffleEntryResult(new RaffleEntryOutcome(raffleId, entryKey, holder, next, tickets, cost, balance, Repeated: false), Raffle: raffle);
    }

    /// <summary>The published entry list: every ticket in order with its holder's pseudonym.</summary>
    public async Task<List<RaffleTicket>> TicketsAsync(string raffleId, CancellationToken ct)
    {
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        return await TicketsAsync(conn, null, raffleId, ct);
    }

    /// <summary>
    /// Draws the raffle if it is not drawn yet and its entries are closed (and, unless <paramref name="early"/>, its draw
    /// time has come): one transaction under the chain lock. Returns the raffle as it is after, or null when unknown.
    /// </summary>
    public async Task<RaffleRecord?> DrawAsync(string raffleId, DateTimeOffset now, bool early, CancellationToken ct)
    {
        await using var chain = await ledger.BeginChainAsync(ct);
        var (conn, tx) = (chain.Connection, chain.Transaction);
        var (raffle, salt) = await ReadAsync(conn, tx, raffleId, ct);
        if (raffle is null || raffle.DrawnAt is not null || now < raffle.ClosesAt || (!early && now < raffle.DrawAt))
        {
            return raffle;
        }

        var tickets = await TicketsAsync(conn, tx, raffleId, ct);
        var seed = RaffleDraw.ServerSeed(key, raffleId, salt!);
        var winners = RaffleDraw.Draw(seed, raffle.Raffle, tickets);
        var accounts = await AccountsOfAsync(conn, tx, raffleId, winners, ct);

        var at = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        var prizes = winners.Where(w => w.Points > 0).Select(w => RaffleEntries.Prize(raffleId, accounts[w.Holder], w.Points, at)).ToList();
        var appended = await ledger.AppendAsync(conn, tx, RaffleEntries.PrizeScope(raffleId), prizes, ct);
        var digest = RaffleDraw.EntriesDigest(raffleId, tickets);
        await using (var mark = new NpgsqlCommand("UPDATE raffles SET drawn_at = $2, revealed_seed = $3, entries_digest = $4, winners = $5 WHERE raffle_id = $1", conn, tx))
        {
            mark.Parameters.AddWithValue(raffleId);
            mark.Parameters.Add(Time(at));
            mark.Parameters.AddWithValue(seed);
            mark.Parameters.AddWithValue(digest);
            mark.Parameters.AddWithValue(JsonSerializer.Serialize(winners, FanVoteJson.Options));
            await mark.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        if (appended.Appended > 0)
        {
            await ledger.AnchorAfterCommitAsync(appended.HeadSeq, appended.HeadHash!, ct);
        }

        return raffle with { DrawnAt = at, RevealedSeed = seed, EntriesDigest = digest, Winners = winners };
    }

    /// <summary>For the operator: each winner's account (to hand over a prize outside the ledger).</summary>
    public async Task<Dictionary<string, string>> WinnerAccountsAsync(RaffleRecord raffle, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(raffle);
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        return await AccountsOfAsync(conn, null, raffle.Raffle.RaffleId, raffle.Winners ?? [], ct);
    }

    /// <summary>The account behind each winner's holder pseudonym.</summary>
    private static async Task<Dictionary<string, string>> AccountsOfAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string raffleId, IEnumerable<RaffleWinner> winners, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT DISTINCT holder, account_id FROM raffle_entries WHERE raffle_id = $1 AND holder = ANY($2)", conn, tx);
        cmd.Parameters.AddWithValue(raffleId);
        cmd.Parameters.Add(new NpgsqlParameter { Value = winners.Select(w => w.Holder).ToArray() });
        var accounts = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            accounts[r.GetString(0)] = r.GetString(1);
        }

        return accounts;
    }

    /// <summary>A fan's entries across raffles (their export).</summary>
    public async Task<List<RaffleEntryOutcome>> EntriesOfAsync(string accountId, int limit, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand("""
            SELECT raffle_id, entry_key, holder, first_ticket, tickets, cost FROM raffle_entries WHERE account_id = $1 ORDER BY entered_at DESC LIMIT $2
            """);
        cmd.Parameters.AddWithValue(accountId);
        cmd.Parameters.AddWithValue(limit);
        var list = new List<RaffleEntryOutcome>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new RaffleEntryOutcome(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt32(4), r.GetInt64(5), null, false));
        }

        return list;
    }

    private static async Task<List<RaffleTicket>> TicketsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string raffleId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT first_ticket, tickets, holder FROM raffle_entries WHERE raffle_id = $1 ORDER BY first_ticket", conn, tx);
        cmd.Parameters.AddWithValue(raffleId);
        var tickets = new List<RaffleTicket>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var (first, n, holder) = (r.GetInt64(0), r.GetInt32(1), r.GetString(2));
            for (var i = 0; i < n; i++)
            {
                tickets.Add(new RaffleTicket(first + i, holder));
            }
        }

        return tickets;
    }

    private static async Task<(RaffleRecord? Record, byte[]? Salt)> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string raffleId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT {Columns}, seed_salt, tickets_taken FROM raffles WHERE raffle_id = $1
            """, conn, tx);
        cmd.Parameters.AddWithValue(raffleId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return (null, null);
        }

        var raffle = new Raffle(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt32(3), JsonSerializer.Deserialize<List<RafflePrize>>(r.GetString(4), FanVoteJson.Options)!)
        {
            MinTier = r.IsDBNull(14) ? null : r.GetString(14),
        };
        var record = new RaffleRecord(
            raffle, r.GetString(5), r.GetFieldValue<DateTimeOffset>(6), r.GetFieldValue<DateTimeOffset>(7), r.GetFieldValue<DateTimeOffset>(8),
            r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
            r.IsDBNull(10) ? null : (byte[])r[10],
            r.IsDBNull(11) ? null : r.GetString(11),
            r.IsDBNull(12) ? null : JsonSerializer.Deserialize<List<RaffleWinner>>(r.GetString(12), FanVoteJson.Options),
            r.GetInt64(16),
            r.GetString(13));
        return (record, (byte[])r[15]);
    }

    private static NpgsqlParameter Time(DateTimeOffset at) => new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
