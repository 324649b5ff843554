using FanVote.Contracts;
using FanVote.Tally.Core;
using Npgsql;

namespace FanVote.Tally.Adapters;

/// <summary>What one retention pass minimized.</summary>
public sealed record RetentionPass(int Windows, long Votes, long Quarantined, long Flags);

/// <summary>
/// Minimization of the vote ledger (issue 16): once a window has been closed longer than the fraud window, its votes
/// keep the IP's prefix and a keyed hash of the device id (<see cref="Pseudonyms"/>), and so do its device flags;
/// quarantined votes the same, by the time they were quarantined. Counts, audit leaves (vote, candidate, account) and the
/// certified result do not use these fields and do not change. Each row is marked (<c>minimized_at</c>) and each done
/// window recorded (<c>window_retention</c>, with its persisted count then), so a pass is idempotent and instances may
/// run it at once (an advisory lock keeps them from doing the same work twice). What arrives for a window after its
/// pass is minimized by the next: votes (a dead letter replayed late) when the window's persisted count grew since,
/// device flags of any done window whenever they are still raw.
/// </summary>
public sealed class PostgresRetention(PostgresVoteLedger ledger, PostgresAuditStore audit, Pseudonyms pseudonyms)
{
    public const int Batch = 5000;
    private const long Lock = 4242003;

    private NpgsqlDataSource Db => ledger.DataSource;

    /// <summary>Minimizes every window that closed before <paramref name="closedBefore"/>, and votes quarantined before it.</summary>
    public async Task<RetentionPass> MinimizeAsync(DateTimeOffset closedBefore, CancellationToken ct)
    {
        await audit.EnsureSchemaAsync(ct);
        await using var conn = await Db.OpenConnectionAsync(ct);
        await using (var locked = new NpgsqlCommand("SELECT pg_try_advisory_lock(@k)", conn))
        {
            locked.Parameters.AddWithValue("k", Lock);
            if (!(bool)(await locked.ExecuteScalarAsync(ct))!)
            {
                return new RetentionPass(0, 0, 0, 0); // another instance is at it
            }
        }

        try
        {
            var windows = new List<(string Id, DateTimeOffset Opens, DateTimeOffset Closes, long Persisted)>();
            await using (var due = new NpgsqlCommand("""
                SELECT w.window_id, w.opens_at, w.closes_at, coalesce(t.persisted, 0) FROM windows w
                LEFT JOIN window_totals t ON t.window_id = w.window_id
                LEFT JOIN window_retention r ON r.window_id = w.window_id
                WHERE w.closes_at < @cut AND (r.window_id IS NULL OR coalesce(t.persisted, 0) > r.persisted)
                ORDER BY w.closes_at
                """, conn))
            {
                due.Parameters.AddWithValue("cut", closedBefore);
                await using var r = await due.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    windows.Add((r.GetString(0), r.GetFieldValue<DateTimeOffset>(1), r.GetFieldValue<DateTimeOffset>(2), r.GetInt64(3)));
                }
            }

            long votes = 0;
            foreach (var w in windows)
            {
                var (low, high) = VoteIds.Range(w.Opens, w.Closes);
                var n = await MinimizeRowsAsync(conn, "votes", "vote_id >= @low AND vote_id <= @high AND window_id = @w", p =>
                {
                    p.AddWithValue("low", low);
                    p.AddWithValue("high", high);
                    p.AddWithValue("w", w.Id);
                }, ct);
                votes += n;
                await using var done = new NpgsqlCommand("""
                    INSERT INTO window_retention (window_id, votes, persisted, minimized_at) VALUES (@w, @n, @p, now())
                    ON CONFLICT (window_id) DO UPDATE SET votes = window_retention.votes + EXCLUDED.votes, persisted = EXCLUDED.persisted, minimized_at = now()
                    """, conn);
                done.Parameters.AddWithValue("w", w.Id);
                done.Parameters.AddWithValue("n", n);
                done.Parameters.AddWithValue("p", w.Persisted);
                await done.ExecuteNonQueryAsync(ct);
            }

            // What landed for erased accounts after their erasure (in flight then, or a dead letter replayed): votes,
            // quarantined votes and device flags on them, as the erasure itself minimized them.
            var late = await MinimizeAccountsAsync(conn, ErasedRecently, p => p.AddWithValue("since", closedBefore - ErasedLateFor), ct);
            var flags = await MinimizeFlagsAsync(conn, ct);

            var quarantined = await MinimizeRowsAsync(conn, "quarantined_votes", "quarantined_at < @cut", p => p.AddWithValue("cut", closedBefore), ct);
            return new RetentionPass(windows.Count, votes + late.Votes, quarantined + late.Quarantined, flags + late.Flags);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@k)", conn);
            unlock.Parameters.AddWithValue("k", Lock);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// A fan's erasure: from now on every vote of the account, counted or quarantined, keeps only the IP's prefix and the
    /// device's keyed hash, and so do device flags on them; the account is recorded as erased, so votes of it that land
    /// later are minimized by the next retention pass. Account ids stay (random ids no longer linked to anyone once
    /// ingress removed the directory entry): the audit leaves, the counts and the certified result do not change.
    /// Idempotent: run again, it finds nothing left to change.
    /// </summary>
    public async Task<(long Votes, long Quarantined, long Flags)> EraseAccountAsync(string accountId, CancellationToken ct)
    {
        await audit.EnsureSchemaAsync(ct);
        await using var conn = await Db.OpenConnectionAsync(ct);
        await using (var mark = new NpgsqlCommand("""
            INSERT INTO erased_accounts (account_id, erased_at) VALUES (@a, now()) ON CONFLICT (account_id) DO NOTHING;
            """, conn))
        {
            mark.Parameters.AddWithValue("a", accountId);
            await mark.ExecuteNonQueryAsync(ct);
        }

        return await MinimizeAccountsAsync(conn, "account_id = @a", p => p.AddWithValue("a", accountId), ct);
    }

    /// <summary>Every vote, counted or quarantined, of the accounts matching <paramref name="accounts"/> (a condition on <c>account_id</c>), and device flags on them.</summary>
    private async Task<(long Votes, long Quarantined, long Flags)> MinimizeAccountsAsync(NpgsqlConnection conn, string accounts, Action<NpgsqlParameterCollection> bind, CancellationToken ct)
    {
        var flags = await MinimizeFlagsAsync(conn, $"f.vote_id IN (SELECT vote_id FROM votes WHERE {accounts} UNION ALL SELECT vote_id FROM quarantined_votes WHERE {accounts})", bind, ct);
        var votes = await MinimizeRowsAsync(conn, "votes", accounts, bind, ct);
        var quarantined = await MinimizeRowsAsync(conn, "quarantined_votes", accounts, bind, ct);
        return (votes, quarantined, flags);
    }

    /// <summary>How long after an erasure its account's late votes are still looked for (longer than any dead letter waits for its replay).</summary>
    public static readonly TimeSpan ErasedLateFor = TimeSpan.FromDays(30);

    private const string ErasedRecently = "account_id IN (SELECT account_id FROM erased_accounts WHERE erased_at > @since)";

    /// <summary>Rows of <paramref name="table"/> matching <paramref name="where"/> not minimized yet, a batch at a time: IP to prefix, device to pseudonym.</summary>
    private async Task<long> MinimizeRowsAsync(NpgsqlConnection conn, string table, string where, Action<NpgsqlParameterCollection> bind, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            var ids = new List<Guid>(Batch);
            var devices = new List<string>(Batch);
            var ips = new List<string>(Batch);
            await using (var select = new NpgsqlCommand($"SELECT vote_id, device_id, ip FROM {table} WHERE {where} AND minimized_at IS NULL LIMIT {Batch}", conn))
            {
                bind(select.Parameters);
                await using var r = await select.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    ids.Add(r.GetGuid(0));
                    devices.Add(pseudonyms.Device(r.GetString(1)));
                    ips.Add(Pseudonyms.Ip(r.GetString(2)));
                }
            }

            if (ids.Count == 0)
            {
                return total;
            }

            await using var update = new NpgsqlCommand($"""
                UPDATE {table} t SET device_id = u.device, ip = u.ip, minimized_at = now()
                FROM unnest(@ids, @devices, @ips) AS u(id, device, ip) WHERE t.vote_id = u.id
                """, conn);
            update.Parameters.AddWithValue("ids", ids.ToArray());
            update.Parameters.AddWithValue("devices", devices.ToArray());
            update.Parameters.AddWithValue("ips", ips.ToArray());
            total += await update.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>
    /// Device flags of every minimized window still raw (those of this pass, and any that arrived after their window's
    /// pass) get the device's pseudonym; account and prefix subjects stay (the audit names them).
    /// </summary>
    private Task<long> MinimizeFlagsAsync(NpgsqlConnection conn, CancellationToken ct) =>
        MinimizeFlagsAsync(conn, "f.window_id IN (SELECT window_id FROM window_retention)", _ => { }, ct);

    /// <summary>Device flags matching <paramref name="where"/> (over <c>vote_flags f</c>) still raw get the device's pseudonym.</summary>
    private async Task<long> MinimizeFlagsAsync(NpgsqlConnection conn, string where, Action<NpgsqlParameterCollection> bind, CancellationToken ct)
    {
        var ids = new List<Guid>();
        var subjects = new List<string>();
        await using (var select = new NpgsqlCommand($"""
            SELECT f.vote_id, f.subject FROM vote_flags f
            WHERE f.subject_kind = @kind AND f.minimized_at IS NULL AND {where}
            """, conn))
        {
            select.Parameters.AddWithValue("kind", RiskSubjects.Device);
            bind(select.Parameters);
            await using var r = await select.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                ids.Add(r.GetGuid(0));
                subjects.Add(pseudonyms.Device(r.GetString(1)));
            }
        }

        if (ids.Count == 0)
        {
            return 0;
        }

        await using var update = new NpgsqlCommand("""
            UPDATE vote_flags f SET subject = u.subject, minimized_at = now()
            FROM unnest(@ids, @subjects) AS u(id, subject) WHERE f.vote_id = u.id
            """, conn);
        update.Parameters.AddWithValue("ids", ids.ToArray());
        update.Parameters.AddWithValue("subjects", subjects.ToArray());
        return await update.ExecuteNonQueryAsync(ct);
    }
}
