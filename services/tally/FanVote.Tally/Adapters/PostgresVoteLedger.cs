using FanVote.Tally.Core;
using FanVote.Transport;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Tally.Adapters;

/// <summary>
/// The ledger in PostgreSQL. A batch is one transaction, and the counts and totals are raised by exactly the
/// rows that were new, so a redelivered vote changes nothing. The usual batch holds only new votes, so it is
/// binary-COPYed straight into <c>votes</c> (the primary key still checks every id); when that meets a vote the
/// ledger already has (a redelivery after a crash, a vote republished after a 503), the transaction is rolled
/// back and the batch goes the merging way: COPY into a session temp table, then
/// INSERT ... ON CONFLICT (vote_id) DO NOTHING RETURNING. COPY is what makes 100k rows/s possible (single-row
/// commits manage a few thousand).
/// </summary>
/// <remarks>
/// <c>votes</c> has no index besides its primary key: each extra index costs every vote on the hot path. Vote
/// ids are UUIDv7 minted when ingress admits the vote, so one window's votes lie in the primary-key range of its
/// open..close time (<see cref="VoteIds.Range"/>); per-window reads (audit, export) scan that range.
/// </remarks>
public sealed class PostgresVoteLedger(IOptions<TallyOptions> options) : IVoteLedger, IAsyncDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS votes (
          vote_id uuid PRIMARY KEY,
          window_id text NOT NULL,
          candidate_id text NOT NULL,
          account_id text NOT NULL,
          device_id text NOT NULL,
          ip text NOT NULL,
          accepted_at timestamptz NOT NULL,
          account_created_at timestamptz NOT NULL,
          persisted_at timestamptz NOT NULL DEFAULT now());
        DROP INDEX IF EXISTS votes_window_idx;
        CREATE TABLE IF NOT EXISTS vote_counts (
          window_id text NOT NULL,
          candidate_id text NOT NULL,
          votes bigint NOT NULL,
          PRIMARY KEY (window_id, candidate_id));
        CREATE TABLE IF NOT EXISTS window_totals (
          window_id text PRIMARY KEY,
          persisted bigint NOT NULL,
          seq bigint NOT NULL,
          updated_at timestamptz NOT NULL);
        CREATE TABLE IF NOT EXISTS windows (
          window_id text PRIMARY KEY,
          opens_at timestamptz NOT NULL,
          closes_at timestamptz NOT NULL,
          candidates text[] NOT NULL,
          scheduled_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS quarantined_votes (
          vote_id uuid PRIMARY KEY,
          window_id text NOT NULL,
          candidate_id text NOT NULL,
          account_id text NOT NULL,
          device_id text NOT NULL,
          ip text NOT NULL,
          accepted_at timestamptz NOT NULL,
          reason text NOT NULL,
          quarantined_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS quarantined_votes_window_idx ON quarantined_votes (window_id);
        CREATE TABLE IF NOT EXISTS window_audits (
          window_id text PRIMARY KEY,
          result text NOT NULL,
          audited_at timestamptz NOT NULL,
          chunks_published boolean NOT NULL DEFAULT false);
        -- Minimization (PostgresRetention): when a row's IP became a prefix and its device id a keyed hash.
        ALTER TABLE votes ADD COLUMN IF NOT EXISTS minimized_at timestamptz NULL;
        ALTER TABLE quarantined_votes ADD COLUMN IF NOT EXISTS minimized_at timestamptz NULL;
        CREATE INDEX IF NOT EXISTS quarantined_votes_unminimized_idx ON quarantined_votes (quarantined_at) WHERE minimized_at IS NULL;
        CREATE TABLE IF NOT EXISTS window_retention (
          window_id text PRIMARY KEY,
          votes bigint NOT NULL,
          persisted bigint NOT NULL DEFAULT 0,
          minimized_at timestamptz NOT NULL);
        ALTER TABLE window_retention ADD COLUMN IF NOT EXISTS persisted bigint NOT NULL DEFAULT 0;
        -- Fans' erasures (PostgresRetention.EraseAccountAsync): their votes that land later are minimized too.
        CREATE TABLE IF NOT EXISTS erased_accounts (account_id text PRIMARY KEY, erased_at timestamptz NOT NULL);
        """;

    private readonly NpgsqlDataSource _db = NpgsqlDataSource.Create(options.Value.ConnectionString);

    public NpgsqlDataSource DataSource => _db;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var conn = await _db.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(4242001)", conn, tx))
        {
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var ddl = new NpgsqlCommand(Schema, conn, tx))
        {
            await ddl.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<LedgerWriteResult> AppendAsync(IReadOnlyList<AcceptedVote> rows, IReadOnlyList<QuarantinedVote> quarantined, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(quarantined);
        if (rows.Count == 0 && quarantined.Count == 0)
        {
            return new LedgerWriteResult(0, 0, []);
        }

        // A vote republished after a 503 can come twice in one batch; one copy of each id goes to the database.
        var seen = new HashSet<Guid>(rows.Count);
        var unique = new List<AcceptedVote>(rows.Count);
        foreach (var r in rows)
        {
            if (seen.Add(r.VoteId))
            {
                unique.Add(r);
            }
        }

        try
        {
            return await AppendNewAsync(unique, quarantined, rows.Count, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Some of the batch is in the ledger already: the merging path counts only what is new.
        }

        return await AppendMergingAsync(unique, quarantined, rows.Count, cancellationToken);
    }

    /// <summary>
    /// Within the batch's transaction: takes the audit lock of each of its windows in shared mode (in key order; the
    /// audit takes it exclusively, so a batch and an audit of the same window never overlap), then moves the votes of
    /// windows already audited to quarantine ("after-audit") and writes the quarantine.
    /// </summary>
    private static async Task<(List<AcceptedVote> Rows, int Quarantined)> GuardAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, List<AcceptedVote> rows, IReadOnlyList<QuarantinedVote> quarantined, CancellationToken ct)
    {
        var windows = rows.Select(r => r.WindowId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var audited = new HashSet<string>(StringComparer.Ordinal);
        if (windows.Length > 0)
        {
            await using var locks = new NpgsqlCommand(
                "SELECT count(pg_advisory_xact_lock_shared(hashtext('fanvote-audit:' || w))) FROM (SELECT unnest($1::text[]) AS w ORDER BY 1) t", conn, tx);
            locks.Parameters.Add(new NpgsqlParameter { Value = windows });
            await locks.ExecuteNonQueryAsync(ct);
            await using var done = new NpgsqlCommand("SELECT window_id FROM window_audits WHERE window_id = ANY($1)", conn, tx);
            done.Parameters.Add(new NpgsqlParameter { Value = windows });
            await using var r = await done.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                audited.Add(r.GetString(0));
            }
        }

        var keep = audited.Count == 0 ? rows : rows.FindAll(v => !audited.Contains(v.WindowId));
        var quarantine = audited.Count == 0 ? quarantined
            : [.. quarantined, .. rows.Where(v => audited.Contains(v.WindowId)).Select(v => new QuarantinedVote(v, VoteScreen.AfterAudit))];
        if (quarantine.Count > 0)
        {
            await using var q = new NpgsqlCommand("""
                INSERT INTO quarantined_votes (vote_id, window_id, candidate_id, account_id, device_id, ip, accepted_at, reason)
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[]) AS q(id)
                WHERE NOT EXISTS (SELECT 1 FROM votes v WHERE v.vote_id = q.id)
                ON CONFLICT (vote_id) DO NOTHING
                """, conn, tx);
            q.Parameters.Add(new NpgsqlParameter { Value = quarantine.Select(x => x.Vote.VoteId).ToArray() });
            q.Parameters.Add(new NpgsqlParameter { Value = quarantine.Select(x => Clip(x.Vote.WindowId)).ToArray() });
            q.Parameters.Add(new NpgsqlParameter { Value = quarantine.Select(x => Clip(x.Vote.CandidateId)).ToArray() });
            q.Parameters.Add(new NpgsqlParameter { Value = quarantine.Select(x => Clip(x.Vote.AccountId)).ToArray() });
            q.Parameters.Add(new NpgsqlParameter { Value = quarantine.Select(x => Clip(x.Vote.DeviceId)).ToArray() });
            q.Parameters.Add(new NpgsqlParameter { Value = quarantine.Select(x => Clip(x.Vote.Ip)).ToArray() });
            q.Parameters.Add(new NpgsqlParameter { Value = quarantine.Select(x => x.Vote.AcceptedAt.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            q.Parameters.Add(new NpgsqlParameter { Value = quarantine.Select(x => x.Reason).ToArray() });
            await q.ExecuteNonQueryAsync(ct);
        }

        return (keep, quarantine.Count);
    }

    /// <summary>Quarantine keeps what came, but not without bound: each field to its first 256 characters.</summary>
    private static string Clip(string s) => s.Length <= 256 ? s : s[..256];

    /// <summary>
    /// The write of <see cref="AppendAsync"/> for new votes, every statement of it, in a transaction that is rolled back:
    /// nothing stays (the warm-up before ready runs it; the ledger has no sequence a rollback would leave moved).
    /// </summary>
    public async Task<LedgerWriteResult> RehearseAsync(IReadOnlyList<AcceptedVote> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return await AppendNewAsync([.. rows], [], rows.Count, cancellationToken, commit: false);
    }

    private async Task<LedgerWriteResult> AppendNewAsync(
        List<AcceptedVote> all, IReadOnlyList<QuarantinedVote> quarantined, int received, CancellationToken cancellationToken, bool commit = true)
    {
        await using var conn = await _db.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        var (rows, held) = await GuardAsync(conn, tx, all, quarantined, cancellationToken);
        await CopyAsync(conn, "votes", rows, cancellationToken);
        var added = rows
            .GroupBy(r => (r.WindowId, r.CandidateId))
            .Select(g => (Window: g.Key.WindowId, Candidate: g.Key.CandidateId, N: (long)g.Count()))
            .ToList();
        var changed = await RaiseCountsAsync(conn, tx, added, cancellationToken);
        if (commit)
        {
            await tx.CommitAsync(cancellationToken);
        }
        else
        {
            await tx.RollbackAsync(cancellationToken);
        }

        return new LedgerWriteResult(rows.Count, received - all.Count, changed, held);
    }

    private async Task<LedgerWriteResult> AppendMergingAsync(List<AcceptedVote> all, IReadOnlyList<QuarantinedVote> quarantined, int received, CancellationToken cancellationToken)
    {
        await using var conn = await _db.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        var (rows, held) = await GuardAsync(conn, tx, all, quarantined, cancellationToken);
        await Exec(conn, tx, "CREATE TEMP TABLE IF NOT EXISTS votes_staging (LIKE votes INCLUDING DEFAULTS) ON COMMIT DELETE ROWS", cancellationToken);
        await CopyAsync(conn, "votes_staging", rows, cancellationToken);

        // Only rows new to the ledger come back, grouped: the counts rise by exactly those.
        var added = new List<(string Window, string Candidate, long N)>();
        await using (var insert = new NpgsqlCommand("""
            WITH ins AS (
              INSERT INTO votes (vote_id, window_id, candidate_id, account_id, device_id, ip, accepted_at, account_created_at)
              SELECT vote_id, window_id, candidate_id, account_id, device_id, ip, accepted_at, account_created_at
              FROM votes_staging
              ON CONFLICT (vote_id) DO NOTHING
              RETURNING window_id, candidate_id)
            SELECT window_id, candidate_id, count(*) FROM ins GROUP BY window_id, candidate_id
            """, conn, tx))
        await using (var reader = await insert.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                added.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
            }
        }

        var inserted = (int)added.Sum(a => a.N);
        var changed = await RaiseCountsAsync(conn, tx, added, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new LedgerWriteResult(inserted, rows.Count - inserted + (received - all.Count), changed, held);
    }

    private static async Task CopyAsync(NpgsqlConnection conn, string table, List<AcceptedVote> rows, CancellationToken cancellationToken)
    {
        await using var copy = await conn.BeginBinaryImportAsync(
            $"COPY {table} (vote_id, window_id, candidate_id, account_id, device_id, ip, accepted_at, account_created_at) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var r in rows)
        {
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(r.VoteId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(r.WindowId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(r.CandidateId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(r.AccountId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(r.DeviceId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(r.Ip, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(r.AcceptedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await copy.WriteAsync(r.AccountCreatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        }

        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>Raises counts and totals by <paramref name="added"/> and reads the changed windows back, in one round trip.</summary>
    private static async Task<List<WindowCounts>> RaiseCountsAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, List<(string Window, string Candidate, long N)> added, CancellationToken cancellationToken)
    {
        if (added.Count == 0)
        {
            return [];
        }

        // Every batch locks count rows, then total rows, each in key order (ORDER BY below), so concurrent
        // batches wait for each other instead of deadlocking.
        var perWindow = added.GroupBy(a => a.Window).Select(g => (Window: g.Key, N: g.Sum(x => x.N))).ToList();
        var windows = perWindow.Select(p => p.Window).ToArray();
        await using var batch = new NpgsqlBatch(conn, tx);
        var counts = new NpgsqlBatchCommand("""
            INSERT INTO vote_counts (window_id, candidate_id, votes)
            SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ORDER BY 1, 2
            ON CONFLICT (window_id, candidate_id) DO UPDATE SET votes = vote_counts.votes + excluded.votes
            """);
        counts.Parameters.Add(new NpgsqlParameter { Value = added.Select(a => a.Window).ToArray() });
        counts.Parameters.Add(new NpgsqlParameter { Value = added.Select(a => a.Candidate).ToArray() });
        counts.Parameters.Add(new NpgsqlParameter { Value = added.Select(a => a.N).ToArray() });
        var totals = new NpgsqlBatchCommand("""
            INSERT INTO window_totals (window_id, persisted, seq, updated_at)
            SELECT w, n, 1, now() FROM unnest($1::text[], $2::bigint[]) AS t(w, n) ORDER BY 1
            ON CONFLICT (window_id) DO UPDATE SET persisted = window_totals.persisted + excluded.persisted,
              seq = window_totals.seq + 1, updated_at = now()
            """);
        totals.Parameters.Add(new NpgsqlParameter { Value = windows });
        totals.Parameters.Add(new NpgsqlParameter { Value = perWindow.Select(p => p.N).ToArray() });
        var read = new NpgsqlBatchCommand(CountsSql);
        read.Parameters.Add(new NpgsqlParameter { Value = windows, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        read.Parameters.Add(new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(counts);
        batch.BatchCommands.Add(totals);
        batch.BatchCommands.Add(read);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await ReadCountsAsync(reader, cancellationToken);
    }

    public async Task<IReadOnlyList<WindowCounts>> CountsAsync(DateTimeOffset? since, CancellationToken cancellationToken)
    {
        await using var conn = await _db.OpenConnectionAsync(cancellationToken);
        return await ReadCountsAsync(conn, null, null, since, cancellationToken);
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    private const string CountsSql = """
        SELECT t.window_id, t.seq, t.persisted, c.candidate_id, c.votes
        FROM window_totals t JOIN vote_counts c ON c.window_id = t.window_id
        WHERE ($1::text[] IS NULL OR t.window_id = ANY($1)) AND ($2::timestamptz IS NULL OR t.updated_at >= $2)
        ORDER BY t.window_id
        """;

    private static async Task<List<WindowCounts>> ReadCountsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string[]? windows, DateTimeOffset? since, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(CountsSql, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)windows ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)since?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await ReadCountsAsync(r, ct);
    }

    private static async Task<List<WindowCounts>> ReadCountsAsync(NpgsqlDataReader r, CancellationToken ct)
    {
        var result = new List<WindowCounts>();
        string? current = null;
        long seq = 0, total = 0;
        Dictionary<string, long> counts = [];
        while (await r.ReadAsync(ct))
        {
            var w = r.GetString(0);
            if (w != current)
            {
                if (current is not null)
                {
                    result.Add(new WindowCounts(current, seq, total, counts));
                }

                current = w;
                seq = r.GetInt64(1);
                total = r.GetInt64(2);
                counts = new Dictionary<string, long>(StringComparer.Ordinal);
            }

            counts[r.GetString(3)] = r.GetInt64(4);
        }

        if (current is not null)
        {
            result.Add(new WindowCounts(current, seq, total, counts));
        }

        return result;
    }

    private static async Task Exec(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
