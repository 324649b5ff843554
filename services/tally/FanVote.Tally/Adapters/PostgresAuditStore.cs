using System.Data;
using System.Runtime.CompilerServices;
using System.Text.Json;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Tally.Audit;
using FanVote.Tally.Core;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Tally.Adapters;

/// <summary>
/// The audit beside the ledger, in tally's PostgreSQL: fraud flags (`vote_flags`), the counted votes of each audited
/// window frozen at the audit (`audit_leaves`), and the stored, signed result (`window_audits`, created with the
/// ledger). The first audit of a window is final: later requests get the stored result, so the receipts and the payout
/// always match what was certified; a vote arriving afterwards is quarantined ("after-audit") by the ledger.
/// The audit reads a window's votes by their key range (UUIDv7 minted at acceptance, within the window's bounds).
/// </summary>
public sealed class PostgresAuditStore(PostgresVoteLedger ledger, AuditSigner signer) : IDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS vote_flags (
          vote_id uuid PRIMARY KEY,
          window_id text NOT NULL,
          reason text NOT NULL,
          subject_kind text NOT NULL,
          subject text NOT NULL,
          score double precision NOT NULL,
          model_version text NOT NULL,
          event_id uuid NOT NULL,
          flagged_at timestamptz NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS vote_flags_window_idx ON vote_flags (window_id);
        ALTER TABLE vote_flags ADD COLUMN IF NOT EXISTS minimized_at timestamptz NULL;
        CREATE INDEX IF NOT EXISTS vote_flags_unminimized_idx ON vote_flags (window_id) WHERE minimized_at IS NULL AND subject_kind = 'device';
        CREATE TABLE IF NOT EXISTS audit_leaves (
          window_id text NOT NULL,
          vote_id uuid NOT NULL,
          candidate_id text NOT NULL,
          account_id text NOT NULL,
          PRIMARY KEY (window_id, vote_id));
        """;

    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private volatile bool _schemaReady;

    private NpgsqlDataSource Db => ledger.DataSource;

    public void Dispose() => _schemaGate.Dispose();

    /// <summary>Stores the flags (a vote flagged twice keeps its first flag). Returns (new flags, whether the window was already audited).</summary>
    public async Task<(int Inserted, bool AfterAudit)> AddFlagsAsync(VotesFlagged e, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        await EnsureSchemaAsync(ct);
        await using var conn = await Db.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            WITH ins AS (
              INSERT INTO vote_flags (vote_id, window_id, reason, subject_kind, subject, score, model_version, event_id, flagged_at)
              SELECT id, $2, $3, $4, $5, $6, $7, $8, $9 FROM unnest($1::uuid[]) AS id
              ON CONFLICT (vote_id) DO NOTHING RETURNING 1)
            SELECT (SELECT count(*) FROM ins), EXISTS (SELECT 1 FROM window_audits WHERE window_id = $2)
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.VoteIds.Distinct().ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.WindowId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.ReasonCodes.FirstOrDefault(r => r.Length > 0) ?? WindowAudit.Unspecified });
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.SubjectKind });
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.Subject });
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.Score });
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.ModelVersion });
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.EventId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = e.OccurredAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return ((int)r.GetInt64(0), r.GetBoolean(1));
    }

    /// <summary>Votes of the window committed to the ledger (the counter kept in the same transaction as the rows).</summary>
    public async Task<long> PersistedAsync(string windowId, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("SELECT persisted FROM window_totals WHERE window_id = $1");
        cmd.Parameters.AddWithValue(windowId);
        return await cmd.ExecuteScalarAsync(ct) is long n ? n : 0;
    }

    /// <summary>The window's fraud flags so far: votes, distinct subjects, votes per reason (read on the window index).</summary>
    public async Task<FlagCounts> FlagCountsAsync(string windowId, CancellationToken ct)
    {
        await EnsureSchemaAsync(ct);
        await using var cmd = Db.CreateCommand("""
            SELECT reason, count(*), (SELECT count(DISTINCT (subject_kind, subject)) FROM vote_flags WHERE window_id = $1)
            FROM vote_flags WHERE window_id = $1 GROUP BY reason
            """);
        cmd.Parameters.AddWithValue(windowId);
        var byReason = new Dictionary<string, long>(StringComparer.Ordinal);
        long subjects = 0;
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            byReason[r.GetString(0)] = r.GetInt64(1);
            subjects = r.GetInt64(2);
        }

        return byReason.Count == 0 ? FlagCounts.None : new FlagCounts(byReason.Values.Sum(), subjects, byReason);
    }

    public async Task<(CertifiedResult Result, bool ChunksPublished)?> FindAsync(string windowId, CancellationToken ct)
    {
        await EnsureSchemaAsync(ct);
        await using var cmd = Db.CreateCommand("SELECT result, chunks_published FROM window_audits WHERE window_id = $1");
        cmd.Parameters.AddWithValue(windowId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? (JsonSerializer.Deserialize<CertifiedResult>(r.GetString(0), FanVoteJson.Options)!, r.GetBoolean(1)) : null;
    }

    /// <summary>
    /// Audits the window once, in one repeatable-read snapshot: freezes the counted votes (ledger minus flagged) into
    /// `audit_leaves`, recounts, compares with the live tally, hashes the Merkle tree and the voters, stores the result.
    /// A second call (a retried request, another tally instance) returns the stored result unchanged.
    /// </summary>
    public async Task<CertifiedResult> AuditAsync(TallyWindow window, long accepted, IReadOnlyList<Guid> unconfirmed, string nonce, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(window);
        await EnsureSchemaAsync(ct);
        await using var conn = await Db.OpenConnectionAsync(ct);
        var windowId = window.WindowId;

        // A session lock taken before the snapshot, exclusive: a concurrent audit of the same window (another tally
        // instance) finishes first, and this one then sees its stored result; a batch of votes for the window (which
        // takes the lock shared) commits before the snapshot or waits for the audit and is then quarantined.
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext('fanvote-audit:' || $1))", conn))
        {
            lockCmd.Parameters.AddWithValue(windowId);
            await lockCmd.ExecuteNonQueryAsync(ct);
        }

        try
        {
            return await AuditLockedAsync(conn, window, accepted, unconfirmed, nonce, now, ct);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext('fanvote-audit:' || $1))", conn);
            unlock.Parameters.AddWithValue(windowId);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task<CertifiedResult> AuditLockedAsync(
        NpgsqlConnection conn, TallyWindow window, long accepted, IReadOnlyList<Guid> unconfirmed, string nonce, DateTimeOffset now, CancellationToken ct)
    {
        var windowId = window.WindowId;
        var candidates = window.Candidates;
        var (low, high) = VoteIds.Range(window.OpensAt, window.ClosesAt);
        object[] range = [windowId, low, high];
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await using (var existing = new NpgsqlCommand("SELECT result FROM window_audits WHERE window_id = $1", conn, tx))
        {
            existing.Parameters.AddWithValue(windowId);
            if (await existing.ExecuteScalarAsync(ct) is string stored)
            {
                return JsonSerializer.Deserialize<CertifiedResult>(stored, FanVoteJson.Options)!;
            }
        }

        var live = await CountsAsync(conn, tx, "SELECT candidate_id, votes FROM vote_counts WHERE window_id = $1", [windowId], ct);
        var ledgerCounts = await CountsAsync(conn, tx, "SELECT candidate_id, count(*) FROM votes WHERE vote_id BETWEEN $2 AND $3 AND window_id = $1 GROUP BY 1", range, ct);
        var excluded = await CountsAsync(conn, tx, $"""
            SELECT f.reason, count(*) FROM votes v JOIN vote_flags f ON f.vote_id = v.vote_id WHERE v.vote_id BETWEEN $2 AND $3 AND v.window_id = $1 GROUP BY 1
            UNION ALL
            SELECT '{WindowAudit.UnknownCandidate}', count(*) FROM votes v
            WHERE v.vote_id BETWEEN $2 AND $3 AND v.window_id = $1 AND v.candidate_id <> ALL($4)
              AND NOT EXISTS (SELECT 1 FROM vote_flags f WHERE f.vote_id = v.vote_id)
            HAVING count(*) > 0
            """, [.. range, candidates.ToArray()], ct);
        await using (var freeze = new NpgsqlCommand("""
            INSERT INTO audit_leaves (window_id, vote_id, candidate_id, account_id)
            SELECT v.window_id, v.vote_id, v.candidate_id, v.account_id FROM votes v
            WHERE v.vote_id BETWEEN $2 AND $3 AND v.window_id = $1 AND v.candidate_id = ANY($4)
              AND NOT EXISTS (SELECT 1 FROM vote_flags f WHERE f.vote_id = v.vote_id)
            ON CONFLICT DO NOTHING
            """, conn, tx))
        {
            foreach (var p in range)
            {
                freeze.Parameters.Add(new NpgsqlParameter { Value = p });
            }

            freeze.Parameters.Add(new NpgsqlParameter { Value = candidates.ToArray() });
            await freeze.ExecuteNonQueryAsync(ct);
        }

        var counted = await CountsAsync(conn, tx, "SELECT candidate_id, count(*) FROM audit_leaves WHERE window_id = $1 GROUP BY 1", [windowId], ct);
        var unconfirmedInLedger = 0L;
        if (unconfirmed.Count > 0)
        {
            await using var u = new NpgsqlCommand("SELECT count(*) FROM votes WHERE vote_id = ANY($2) AND window_id = $1", conn, tx);
            u.Parameters.AddWithValue(windowId);
            u.Parameters.Add(new NpgsqlParameter { Value = unconfirmed.ToArray() });
            unconfirmedInLedger = (long)(await u.ExecuteScalarAsync(ct))!;
        }

        var quarantined = await CountsAsync(conn, tx, """
            SELECT reason, count(*) FROM quarantined_votes q WHERE q.window_id = $1 AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.vote_id = q.vote_id) GROUP BY 1
            """, [windowId], ct);
        var tree = new MerkleRootBuilder();
        await foreach (var (id, candidate) in LeavesAsync(conn, tx, windowId, ct))
        {
            tree.Add(MerkleTree.Leaf(id, candidate));
        }

        long voters = 0;
        string? lastAccount = null;
        using var digest = new VotersDigest();
        await foreach (var (account, candidate, n) in VoterLinesAsync(conn, tx, windowId, ct))
        {
            digest.Add(account, candidate, n);
            if (account != lastAccount)
            {
                voters++;
                lastAccount = account;
            }
        }

        var snapshot = new LedgerSnapshot(ledgerCounts, live, counted, excluded, Convert.ToHexStringLower(tree.Root()), tree.Count, voters, digest.Finish(),
            unconfirmedInLedger, quarantined);
        var result = signer.Sign(WindowAudit.Certify(windowId, candidates, accepted, nonce, snapshot, now));
        await using (var save = new NpgsqlCommand("INSERT INTO window_audits (window_id, result, audited_at) VALUES ($1, $2, $3)", conn, tx))
        {
            save.Parameters.AddWithValue(windowId);
            save.Parameters.AddWithValue(JsonSerializer.Serialize(result, FanVoteJson.Options));
            save.Parameters.Add(new NpgsqlParameter { Value = result.AuditedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await save.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return result;
    }

    public async Task MarkChunksPublishedAsync(string windowId, CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand("UPDATE window_audits SET chunks_published = true WHERE window_id = $1");
        cmd.Parameters.AddWithValue(windowId);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The frozen counted votes in leaf order, <see cref="ReceiptChunks.ChunkSize"/> at a time.</summary>
    public async IAsyncEnumerable<List<PackedLeaf>> LeafChunksAsync(string windowId, IReadOnlyList<string> candidates, [EnumeratorCancellation] CancellationToken ct)
    {
        var index = candidates.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        await using var conn = await Db.OpenConnectionAsync(ct);
        var chunk = new List<PackedLeaf>(ReceiptChunks.ChunkSize);
        await foreach (var (id, candidate) in LeavesAsync(conn, null, windowId, ct))
        {
            chunk.Add(new PackedLeaf(id, index[candidate]));
            if (chunk.Count == ReceiptChunks.ChunkSize)
            {
                yield return chunk;
                chunk = new List<PackedLeaf>(ReceiptChunks.ChunkSize);
            }
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>The frozen counted voters in account order, <see cref="WindowAudit.VoterChunkSize"/> accounts at a time.</summary>
    public async IAsyncEnumerable<List<CountedVoter>> VoterChunksAsync(string windowId, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var conn = await Db.OpenConnectionAsync(ct);
        var chunk = new List<CountedVoter>(WindowAudit.VoterChunkSize);
        string? account = null;
        Dictionary<string, long> votes = [];
        await foreach (var (a, candidate, n) in VoterLinesAsync(conn, null, windowId, ct))
        {
            if (a != account)
            {
                if (account is not null)
                {
                    chunk.Add(new CountedVoter { AccountId = account, Votes = votes });
                    if (chunk.Count == WindowAudit.VoterChunkSize)
                    {
                        yield return chunk;
                        chunk = new List<CountedVoter>(WindowAudit.VoterChunkSize);
                    }
                }

                account = a;
                votes = new Dictionary<string, long>(StringComparer.Ordinal);
            }

            votes[candidate] = n;
        }

        if (account is not null)
        {
            chunk.Add(new CountedVoter { AccountId = account, Votes = votes });
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private static async IAsyncEnumerable<(Guid Id, string Candidate)> LeavesAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string windowId, [EnumeratorCancellation] CancellationToken ct)
    {
        // uuid orders by its 16 bytes, which is the Merkle leaf order (VoteIdOrder).
        await using var cmd = new NpgsqlCommand("SELECT vote_id, candidate_id FROM audit_leaves WHERE window_id = $1 ORDER BY vote_id", conn, tx);
        cmd.Parameters.AddWithValue(windowId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            yield return (r.GetGuid(0), r.GetString(1));
        }
    }

    private static async IAsyncEnumerable<(string Account, string Candidate, long Votes)> VoterLinesAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string windowId, [EnumeratorCancellation] CancellationToken ct)
    {
        // COLLATE "C": byte order, the same on every server whatever its locale (rewards recomputes the digest).
        await using var cmd = new NpgsqlCommand("""
            SELECT account_id, candidate_id, count(*) FROM audit_leaves WHERE window_id = $1
            GROUP BY account_id, candidate_id ORDER BY account_id COLLATE "C", candidate_id COLLATE "C"
            """, conn, tx);
        cmd.Parameters.AddWithValue(windowId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            yield return (r.GetString(0), r.GetString(1), r.GetInt64(2));
        }
    }

    private static async Task<Dictionary<string, long>> CountsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, object[] parameters, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            counts[r.GetString(0)] = counts.GetValueOrDefault(r.GetString(0)) + r.GetInt64(1);
        }

        return counts;
    }

    /// <summary>Creates the audit tables (flags, leaves) once per process, before their first use.</summary>
    public async Task EnsureSchemaAsync(CancellationToken ct)
    {
        if (_schemaReady)
        {
            return;
        }

        await _schemaGate.WaitAsync(ct);
        try
        {
            if (!_schemaReady)
            {
                await using var conn = await Db.OpenConnectionAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(4242002)", conn, tx))
                {
                    await lockCmd.ExecuteNonQueryAsync(ct);
                }

                await using (var ddl = new NpgsqlCommand(Schema, conn, tx))
                {
                    await ddl.ExecuteNonQueryAsync(ct);
                }

                await tx.CommitAsync(ct);
                _schemaReady = true;
            }
        }
        finally
        {
            _schemaGate.Release();
        }
    }
}
