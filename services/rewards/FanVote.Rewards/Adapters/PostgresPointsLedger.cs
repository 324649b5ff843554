using System.Text.Json;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Rewards.Adapters;

/// <summary>What a payout attempt found: paid (now or before), or how many voter chunks are here of how many, or voters that did not match.</summary>
public sealed record PayAttempt(RewardsPaid? Paid, bool PaidNow, int VoterChunksHere, int VoterChunksNeeded, bool Mismatch)
{
    /// <summary>Counted voters whose consent rewards has no record of yet (the payout waits for them), and until when.</summary>
    public int WaitingForConsent { get; init; }

    public DateTimeOffset WaitUntil { get; init; }
}

/// <summary>A fan's statement line: the entry, signed for the fan (+ credit, - debit), and the balance after it.</summary>
public sealed record StatementLine(long Seq, DateTimeOffset At, string WindowId, string Reason, long Amount, string Counterparty, long BalanceAfter);

/// <summary>
/// The points ledger in PostgreSQL, through the restricted role (<see cref="LedgerSchema"/>: it may read and append,
/// nothing else). `ledger_entries` is append-only (no UPDATE, DELETE or TRUNCATE granted, and a trigger refuses them
/// for everyone else) and chained with the ledger key (<see cref="LedgerChain"/>); appends take one advisory lock, so
/// the chain is one total order across every rewards instance. After each append that commits, the new head is
/// anchored outside the database (<see cref="LedgerAnchorLog"/>). `account_balances` is kept in the same transaction.
/// A unique index on (window, credited account, reason) makes every credit happen at most once. `payouts`,
/// `payout_voters` and `payout_voter_chunks` hold a window's payout request and the counted voters it pays, until it is paid.
/// </summary>
public sealed class PostgresPointsLedger(IOptions<RewardsOptions> options, LedgerKey key, LedgerAnchorLog anchors, PostgresTiers tiers, IHostEnvironment environment, ILogger<PostgresPointsLedger> log) : IAsyncDisposable
{
    /// <summary>The advisory lock every append takes: one total order of the chain across instances.</summary>
    internal const long ChainLock = 4242100;
    private const int InsertBatch = 5_000;

    private readonly NpgsqlDataSource _db = Open(options.Value.ConnectionString);

    /// <summary>
    /// The data source, with statements prepared once they repeat (unless the connection string says otherwise): a spin
    /// or a raffle entry is a dozen short statements under the chain lock, and parsing and planning each one every time
    /// was most of PostgreSQL's CPU per spin (docs/benchmarks.md, 2026-12-07, the points economy).
    /// </summary>
    private static NpgsqlDataSource Open(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        return builder.Build();
    }

    public NpgsqlDataSource DataSource => _db;

    /// <summary>
    /// Checks the role rewards connects as: one that could rewrite the ledger (superuser, owner, UPDATE, DELETE,
    /// TRUNCATE, TRIGGER) stops start-up outside Development; in Development it is warned about and, being
    /// privileged, creates the schema itself. A restricted role needs the schema migrated first. Then anchors the head.
    /// </summary>
    public async Task InitializeAsync(CancellationToken ct)
    {
        await using (var conn = await _db.OpenConnectionAsync(ct))
        {
            var access = await LedgerSchema.CheckAsync(conn, ct);
            if (access.Dangerous is { } dangerous)
            {
                var problem = $"rewards connects to PostgreSQL as '{access.Role}', which {dangerous}: it could rewrite the points ledger. " +
                    $"Run `FanVote.Rewards migrate` with {LedgerSchema.AdminSetting} (the admin) and {LedgerSchema.Setting} (the restricted role it creates), " +
                    $"and give rewards only {LedgerSchema.Setting}.";
                if (!environment.IsDevelopment())
                {
                    throw new InvalidOperationException(problem);
                }

                RewardsLog.PrivilegedLedgerRole(log, access.Role, dangerous);
                if (!access.SchemaReady)
                {
                    await LedgerSchema.ApplyTablesAsync(conn, ct);
                }
            }
            else if (!access.SchemaReady)
            {
                throw new InvalidOperationException(
                    $"the points ledger's schema is missing or from before the keyed chain, and '{access.Role}' may not create it: run `FanVote.Rewards migrate` with {LedgerSchema.AdminSetting} and {LedgerSchema.Setting} first");
            }
        }

        if (anchors.Path is null)
        {
            if (!environment.IsDevelopment())
            {
                throw new InvalidOperationException($"set {LedgerAnchors.Setting} to the file where rewards appends the ledger's heads (outside the database): without anchors a truncated ledger verifies");
            }

            RewardsLog.NoAnchors(log, LedgerAnchors.Setting);
        }

        await AnchorHeadAsync(ct);
    }

    /// <summary>The current head of the chain (0 and the genesis hash when empty).</summary>
    public async Task<(long Seq, byte[] Hash)> HeadAsync(CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? (r.GetInt64(0), (byte[])r[1]) : (0, LedgerChain.Genesis);
    }

    /// <summary>Anchors the current head (if this instance has not anchored it or a later one). Returns the head's seq.</summary>
    public async Task<long> AnchorHeadAsync(CancellationToken ct)
    {
        var (seq, hash) = await HeadAsync(ct);
        await anchors.AnchorAsync(seq, hash, ct);
        return seq;
    }

    private readonly SemaphoreSlim _chainGate = new(ChainGateSize, ChainGateSize);

    /// <summary>Transactions of this instance that may hold or wait for the chain lock at once (see <see cref="BeginChainAsync"/>).</summary>
    public const int ChainGateSize = 4;

    /// <summary>
    /// A transaction holding the chain lock, for what decides under it (a spin, a raffle entry or draw, a trivia credit,
    /// a wheel's close). Only <see cref="ChainGateSize"/> of this instance's wait for the lock at once; the others wait
    /// here, in memory, without a connection: the lock lets one transaction through at a time anyway, and a burst of
    /// a thousand spins waiting on a hundred pooled connections ran the pool dry (500s after its 15 s timeout, seen
    /// under two CI runs side by side). Past <see cref="RewardsOptions.ChainWait"/> the caller gets
    /// <see cref="LedgerBusyException"/> (503, retry).
    /// </summary>
    internal async Task<ChainTransaction> BeginChainAsync(CancellationToken ct)
    {
        if (!await _chainGate.WaitAsync(options.Value.ChainWait, ct))
        {
            throw new LedgerBusyException(options.Value.ChainWait);
        }

        NpgsqlConnection? conn = null;
        try
        {
            conn = await _db.OpenConnectionAsync(ct);
            var tx = await conn.BeginTransactionAsync(ct);
            await LockChainAsync(conn, tx, ct);
            return new ChainTransaction(conn, tx, _chainGate);
        }
        catch
        {
            if (conn is not null)
            {
                await conn.DisposeAsync();
            }

            _chainGate.Release();
            throw;
        }
    }

    /// <summary>Takes the chain lock for <paramref name="tx"/>: what spins, raffle entries and draws decide under it no other append can change.</summary>
    internal static async Task LockChainAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({ChainLock})", conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A fan's balance as <paramref name="tx"/> sees it (after its own appends).</summary>
    internal static async Task<long> BalanceInAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string accountId, CancellationToken ct)
    {
        await using var b = new NpgsqlCommand("SELECT balance FROM account_balances WHERE account = $1", conn, tx);
        b.Parameters.AddWithValue(Accounts.Fan(accountId));
        return await b.ExecuteScalarAsync(ct) is long balance ? balance : 0;
    }

    internal async Task AnchorAfterCommitAsync(long seq, byte[] hash, CancellationToken ct)
    {
        try
        {
            await anchors.AnchorAsync(seq, hash, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The entries are committed; the periodic anchoring retries. Verify meanwhile checks the last anchor written.
            RewardsLog.AnchorFailed(log, e, seq);
        }
    }

    /// <summary>Keeps the first payout request of a window; returns the stored paid report if the window is paid already.</summary>
    public async Task<RewardsPaid?> RecordRequestAsync(PayoutRequested request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var cmd = _db.CreateCommand("""
            WITH ins AS (INSERT INTO payouts (window_id, request) VALUES ($1, $2) ON CONFLICT (window_id) DO NOTHING)
            SELECT paid FROM payouts WHERE window_id = $1
            """);
        cmd.Parameters.AddWithValue(request.WindowId);
        cmd.Parameters.AddWithValue(JsonSerializer.Serialize(request, FanVoteJson.Options));
        return await cmd.ExecuteScalarAsync(ct) is string paid ? JsonSerializer.Deserialize<RewardsPaid>(paid, FanVoteJson.Options) : null;
    }

    /// <summary>
    /// Keeps whether a fan has "rewards" in effect, the latest change winning (a repeat or an older event changes
    /// nothing). True when this event was the newer one.
    /// </summary>
    public async Task<bool> RecordConsentAsync(string accountId, bool rewards, DateTimeOffset at, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("""
            INSERT INTO reward_consent (account_id, granted, changed_at) VALUES ($1, $2, $3)
            ON CONFLICT (account_id) DO UPDATE SET granted = excluded.granted, changed_at = excluded.changed_at
            WHERE reward_consent.changed_at < excluded.changed_at
            """);
        cmd.Parameters.AddWithValue(accountId);
        cmd.Parameters.AddWithValue(rewards);
        cmd.Parameters.Add(new NpgsqlParameter { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// A fan's erasure: the account's consent row says "no rewards" for ever (its time set to infinity, so no later event
    /// can change it and the time the fan last chose is gone); a payout leaves the account out at once, without waiting
    /// for a consent event that will never come.
    /// </summary>
    public async Task EraseConsentAsync(string accountId, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("""
            INSERT INTO reward_consent (account_id, granted, changed_at) VALUES ($1, false, 'infinity')
            ON CONFLICT (account_id) DO UPDATE SET granted = false, changed_at = 'infinity'
            """);
        cmd.Parameters.AddWithValue(accountId);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>What rewards holds about an account besides its ledger lines: its consent row and the windows it is to be paid for.</summary>
    public async Task<(bool? Granted, DateTimeOffset? ChangedAt, List<(string WindowId, string Candidate, long Votes)> Voted)> FanRecordsAsync(string accountId, CancellationToken ct)
    {
        bool? granted = null;
        DateTimeOffset? at = null;
        await using (var cmd = _db.CreateCommand("SELECT granted, changed_at, isfinite(changed_at) FROM reward_consent WHERE account_id = $1"))
        {
            cmd.Parameters.AddWithValue(accountId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                granted = r.GetBoolean(0);
                at = r.GetBoolean(2) ? r.GetFieldValue<DateTimeOffset>(1) : null;
            }
        }

        var voted = new List<(string, string, long)>();
        await using (var cmd = _db.CreateCommand("SELECT window_id, candidate_id, votes FROM payout_voters WHERE account_id = $1 ORDER BY window_id, candidate_id"))
        {
            cmd.Parameters.AddWithValue(accountId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                voted.Add((r.GetString(0), r.GetString(1), r.GetInt64(2)));
            }
        }

        return (granted, at, voted);
    }

    public async Task StoreVotersAsync(CountedVotersChunk chunk, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var rows = chunk.Voters.SelectMany(v => v.Votes.Select(kv => (v.AccountId, Candidate: kv.Key, Votes: kv.Value))).ToList();
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO payout_voters (window_id, account_id, candidate_id, votes)
            SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[]) ON CONFLICT DO NOTHING
            """, conn, tx))
        {
            insert.Parameters.AddWithValue(chunk.WindowId);
            insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.AccountId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Candidate).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Votes).ToArray() });
            await insert.ExecuteNonQueryAsync(ct);
        }

        await using (var mark = new NpgsqlCommand("INSERT INTO payout_voter_chunks VALUES ($1, $2) ON CONFLICT DO NOTHING", conn, tx))
        {
            mark.Parameters.AddWithValue(chunk.WindowId);
            mark.Parameters.AddWithValue(chunk.ChunkIndex);
            await mark.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Pays the window if its request and all its counted voters are here and match the certified digest: credits,
    /// ledger entries, balances and the paid mark commit together. Returns the paid report, or why not yet.
    /// </summary>
    public async Task<PayAttempt> TryPayAsync(string windowId, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('fanvote-payout:' || $1))", conn, tx))
        {
            lockCmd.Parameters.AddWithValue(windowId);
            await lockCmd.ExecuteNonQueryAsync(ct);
        }

        PayoutRequested? request = null;
        var requestedAt = now;
        await using (var read = new NpgsqlCommand("SELECT request, paid, requested_at FROM payouts WHERE window_id = $1", conn, tx))
        {
            read.Parameters.AddWithValue(windowId);
            await using var r = await read.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                if (!r.IsDBNull(1))
                {
                    return new PayAttempt(JsonSerializer.Deserialize<RewardsPaid>(r.GetString(1), FanVoteJson.Options), false, 0, 0, false);
                }

                request = JsonSerializer.Deserialize<PayoutRequested>(r.GetString(0), FanVoteJson.Options);
                requestedAt = new DateTimeOffset(r.GetDateTime(2), TimeSpan.Zero);
            }
        }

        if (request is null)
        {
            return new PayAttempt(null, false, 0, 0, false);
        }

        var here = (int)await Scalar(conn, tx, "SELECT count(*) FROM payout_voter_chunks WHERE window_id = $1", windowId, ct);
        if (here < request.VoterChunks)
        {
            return new PayAttempt(null, false, here, request.VoterChunks, false);
        }

        var voters = await VotersAsync(conn, tx, windowId, ct);
        if (VotersDigest.Of(voters) != request.VotersDigest || voters.Count != request.Voters)
        {
            await Exec(conn, tx, "DELETE FROM payout_voters WHERE window_id = $1", windowId, ct);
            await Exec(conn, tx, "DELETE FROM payout_voter_chunks WHERE window_id = $1", windowId, ct);
            await tx.CommitAsync(ct);
            return new PayAttempt(null, false, 0, request.VoterChunks, true);
        }

        // Only fans who have "rewards" in effect now are credited (ConsentChanged from ingress); the others' share is not
        // issued. A voter with no record yet is one whose consent is still on its way: wait for it, up to ConsentWait.
        var consent = await ConsentAsync(conn, tx, voters.Select(v => v.AccountId), ct);
        var unknown = voters.Count(v => !consent.ContainsKey(v.AccountId));
        var waitUntil = requestedAt + options.Value.ConsentWait;
        if (unknown > 0 && now < waitUntil)
        {
            return new PayAttempt(null, false, here, request.VoterChunks, false) { WaitingForConsent = unknown, WaitUntil = waitUntil };
        }

        var consenting = consent.Where(c => c.Value).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var credits = PayoutPlan.Credits(request.Rules, request.Winners, voters.Where(v => consenting.Contains(v.AccountId)));
        var (appended, headSeq, headHash) = await AppendAsync(conn, tx, windowId, PayoutPlan.Entries(windowId, credits, now), ct);
        var paid = new RewardsPaid
        {
            EventId = EventIds.Stable(windowId, EventTypes.RewardsPaid),
            OccurredAt = now,
            WindowId = windowId,
            Accounts = credits.Select(c => c.AccountId).Distinct(StringComparer.Ordinal).Count(),
            Points = credits.Sum(c => c.Points),
            Entries = appended,
            LedgerHeadSeq = headSeq,
            LedgerHeadHash = Convert.ToHexStringLower(headHash),
            VotersDigest = request.VotersDigest,
            WithoutConsent = voters.Count(v => !consenting.Contains(v.AccountId)),
        };
        await using (var mark = new NpgsqlCommand("UPDATE payouts SET paid = $2, paid_at = $3 WHERE window_id = $1", conn, tx))
        {
            mark.Parameters.AddWithValue(windowId);
            mark.Parameters.AddWithValue(JsonSerializer.Serialize(paid, FanVoteJson.Options));
            mark.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await mark.ExecuteNonQueryAsync(ct);
        }

        await Exec(conn, tx, "DELETE FROM payout_voters WHERE window_id = $1", windowId, ct);
        await tx.CommitAsync(ct);
        await AnchorAfterCommitAsync(headSeq, headHash, ct);
        return new PayAttempt(paid, true, here, request.VoterChunks, false);
    }

    /// <summary>One credit outside a payout (RewardRequested), from issuance; nothing if (window, account, reason) was credited before.</summary>
    public async Task<bool> CreditAsync(RewardRequested r, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(r);
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var fan = Accounts.Fan(r.AccountId);
        var (appended, headSeq, headHash) = await AppendAsync(conn, tx, r.WindowId,
            [new NewEntry(PayoutPlan.EntryId(r.WindowId, fan, r.Reason), r.WindowId, Accounts.Issuance, fan, r.Points, r.Reason, now)], ct);
        await tx.CommitAsync(ct);
        if (appended > 0)
        {
            await AnchorAfterCommitAsync(headSeq, headHash, ct);
        }

        return appended > 0;
    }

    public async Task<long> BalanceAsync(string account, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("SELECT balance FROM account_balances WHERE account = $1");
        cmd.Parameters.AddWithValue(account);
        return await cmd.ExecuteScalarAsync(ct) is long b ? b : 0;
    }

    /// <summary>The account's entries, newest first, before <paramref name="beforeSeq"/>, each with the balance after it.</summary>
    public async Task<List<StatementLine>> StatementAsync(string account, long? beforeSeq, int limit, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("""
            SELECT seq, created_at, window_id, reason, delta, counterparty, balance_after FROM (
              SELECT seq, created_at, window_id, reason,
                     CASE WHEN credit_account = $1 THEN amount ELSE -amount END AS delta,
                     CASE WHEN credit_account = $1 THEN debit_account ELSE credit_account END AS counterparty,
                     sum(CASE WHEN credit_account = $1 THEN amount ELSE -amount END) OVER (ORDER BY seq) AS balance_after
              FROM ledger_entries WHERE credit_account = $1 OR debit_account = $1) s
            WHERE $2::bigint IS NULL OR seq < $2 ORDER BY seq DESC LIMIT $3
            """);
        cmd.Parameters.AddWithValue(account);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)beforeSeq ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        cmd.Parameters.AddWithValue(limit);
        var lines = new List<StatementLine>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            lines.Add(new StatementLine(r.GetInt64(0), r.GetFieldValue<DateTimeOffset>(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetString(5), r.GetInt64(6)));
        }

        return lines;
    }

    public async ValueTask DisposeAsync()
    {
        await _db.DisposeAsync();
        _chainGate.Dispose();
    }

    /// <summary>
    /// Appends under the chain lock: drops entries whose (window, credited account, reason) exists already, chains
    /// the rest after the current head, inserts them, moves the balances and what each fan earned (their VIP tier,
    /// <see cref="PostgresTiers"/>). A fan's account never goes below zero:
    /// <see cref="InsufficientPointsException"/> then, and the caller's transaction is not to be committed. Returns how many were appended and the head.
    /// </summary>
    internal async Task<(int Appended, long HeadSeq, byte[] HeadHash)> AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string windowId, IReadOnlyList<NewEntry> entries, CancellationToken ct)
    {
        await LockChainAsync(conn, tx, ct);
        var (headSeq, headHash) = (0L, LedgerChain.Genesis);
        await using (var head = new NpgsqlCommand("SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1", conn, tx))
        await using (var r = await head.ExecuteReaderAsync(ct))
        {
            if (await r.ReadAsync(ct))
            {
                (headSeq, headHash) = (r.GetInt64(0), (byte[])r[1]);
            }
        }

        var done = new HashSet<(string, string)>();
        await using (var existing = new NpgsqlCommand("SELECT credit_account, reason FROM ledger_entries WHERE window_id = $1", conn, tx))
        {
            existing.Parameters.AddWithValue(windowId);
            await using var r = await existing.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                done.Add((r.GetString(0), r.GetString(1)));
            }
        }

        var chained = LedgerChain.Append(key, headSeq, headHash, entries.Where(e => !done.Contains((e.Credit, e.Reason))));
        var deltas = LedgerChain.Balances(chained);
        var spending = chained.Where(e => Accounts.IsFan(e.Debit)).Select(e => e.Debit).Distinct(StringComparer.Ordinal).ToArray();
        if (spending.Length > 0)
        {
            // Under the chain lock every balance is as the last commit left it. Entry by entry, in order, no fan pays
            // more than they hold at that point: a spin's cost must be covered before its prize comes back.
            var held = new Dictionary<string, long>(StringComparer.Ordinal);
            await using (var read = new NpgsqlCommand("SELECT account, balance FROM account_balances WHERE account = ANY($1)", conn, tx))
            {
                read.Parameters.Add(new NpgsqlParameter { Value = spending });
                await using var r = await read.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    held[r.GetString(0)] = r.GetInt64(1);
                }
            }

            foreach (var account in spending)
            {
                held.TryAdd(account, 0);
            }

            foreach (var e in chained)
            {
                if (Accounts.IsFan(e.Debit))
                {
                    var has = held.GetValueOrDefault(e.Debit);
                    if (has < e.Amount)
                    {
                        throw new InsufficientPointsException(e.Debit, has, e.Amount);
                    }

                    held[e.Debit] = has - e.Amount;
                }

                if (held.TryGetValue(e.Credit, out var credited))
                {
                    held[e.Credit] = credited + e.Amount;
                }
            }
        }

        foreach (var batch in chained.Chunk(InsertBatch))
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO ledger_entries (seq, entry_id, window_id, debit_account, credit_account, amount, reason, created_at, prev_hash, hash, chain)
                SELECT *, $11::smallint FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::timestamptz[], $9::bytea[], $10::bytea[])
                """, conn, tx);
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Seq).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.EntryId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.WindowId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Debit).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Credit).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Amount).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Reason).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.CreatedAt.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.PrevHash).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Select(e => e.Hash).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = (short)LedgerChain.Version, NpgsqlDbType = NpgsqlDbType.Smallint });
            await insert.ExecuteNonQueryAsync(ct);
        }

        if (deltas.Count > 0)
        {
            // Not an upsert: the CHECK that keeps a fan at zero or above is evaluated on the row an INSERT proposes (a
            // negative delta) before ON CONFLICT would add it. All balance writes are under the chain lock: no race.
            await using var balances = new NpgsqlCommand("""
                WITH d AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS d(account, delta)),
                     moved AS (UPDATE account_balances b SET balance = b.balance + d.delta FROM d WHERE b.account = d.account RETURNING b.account)
                INSERT INTO account_balances (account, balance) SELECT account, delta FROM d WHERE account NOT IN (SELECT account FROM moved)
                """, conn, tx);
            balances.Parameters.Add(new NpgsqlParameter { Value = deltas.Keys.ToArray() });
            balances.Parameters.Add(new NpgsqlParameter { Value = deltas.Values.ToArray() });
            await balances.ExecuteNonQueryAsync(ct);
        }

        await tiers.RecordEarnedAsync(conn, tx, chained, chained.Count > 0 ? chained[^1].CreatedAt : DateTimeOffset.UtcNow, ct);
        return chained.Count > 0 ? (chained.Count, chained[^1].Seq, chained[^1].Hash) : (0, headSeq, headHash);
    }

    /// <summary>Whether each of <paramref name="accounts"/> that rewards has a consent record of has "rewards" given.</summary>
    private static async Task<Dictionary<string, bool>> ConsentAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IEnumerable<string> accounts, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT account_id, granted FROM reward_consent WHERE account_id = ANY($1)", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = accounts.ToArray() });
        var consent = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            consent[r.GetString(0)] = r.GetBoolean(1);
        }

        return consent;
    }

    private static async Task<List<CountedVoter>> VotersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string windowId, CancellationToken ct)
    {
        // Same order as tally's digest: bytes of the account id, then of the candidate id.
        await using var cmd = new NpgsqlCommand("""
            SELECT account_id, candidate_id, votes FROM payout_voters WHERE window_id = $1 ORDER BY account_id COLLATE "C", candidate_id COLLATE "C"
            """, conn, tx);
        cmd.Parameters.AddWithValue(windowId);
        var voters = new List<CountedVoter>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        Dictionary<string, long>? votes = null;
        string? account = null;
        while (await r.ReadAsync(ct))
        {
            if (r.GetString(0) != account)
            {
                account = r.GetString(0);
                votes = new Dictionary<string, long>(StringComparer.Ordinal);
                voters.Add(new CountedVoter { AccountId = account, Votes = votes });
            }

            votes![r.GetString(1)] = r.GetInt64(2);
        }

        return voters;
    }

    private static async Task<long> Scalar(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, string windowId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddWithValue(windowId);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task Exec(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, string windowId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddWithValue(windowId);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>A transaction holding the chain lock (<see cref="PostgresPointsLedger.BeginChainAsync"/>); disposing it rolls back what was not committed and lets the next one in.</summary>
public sealed class ChainTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, SemaphoreSlim gate) : IAsyncDisposable
{
    public NpgsqlConnection Connection => connection;

    public NpgsqlTransaction Transaction => transaction;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
        finally
        {
            gate.Release();
        }
    }
}

/// <summary>This instance waited longer than it may for the ledger's chain lock: answered 503 with Retry-After, nothing done.</summary>
public sealed class LedgerBusyException(TimeSpan waited) : Exception($"the points ledger was busy for {waited.TotalSeconds:0} s")
{
}
