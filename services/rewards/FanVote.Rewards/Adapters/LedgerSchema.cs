using System.Text.RegularExpressions;
using Npgsql;

namespace FanVote.Rewards.Adapters;

/// <summary>What the connection rewards runs with may do to the ledger, and whether the schema is there.</summary>
public sealed record LedgerAccess(string Role, bool SchemaReady, string? Dangerous);

/// <summary>
/// The points ledger's schema and its database role. <see cref="MigrateAsync"/> runs with an admin connection
/// (FANVOTE_PG_ADMIN_CONNECTION; `FanVote.Rewards migrate`, `./fanvote up`, an init container): it creates the tables,
/// the append-only triggers, and the role named in the rewards connection (FANVOTE_REWARDS_PG_CONNECTION) with that
/// connection's password. The role owns nothing and may only read and append the ledger: SELECT and INSERT on
/// `ledger_entries`; on `account_balances` also UPDATE of `balance`; on `payouts` UPDATE of `paid`/`paid_at`; the
/// scratch tables of voters waiting for a payout also DELETE. Not being owner nor superuser, it can neither alter the
/// tables nor disable their triggers, nor change `session_replication_role`.
/// </summary>
public static partial class LedgerSchema
{
    /// <summary>The admin connection (owner of the tables, may create roles); only the migrate step has it.</summary>
    public const string AdminSetting = "FANVOTE_PG_ADMIN_CONNECTION";

    /// <summary>The connection rewards runs with: the restricted role.</summary>
    public const string Setting = "FANVOTE_REWARDS_PG_CONNECTION";

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS ledger_entries (
          seq bigint PRIMARY KEY,
          entry_id uuid NOT NULL UNIQUE,
          window_id text NOT NULL,
          debit_account text NOT NULL,
          credit_account text NOT NULL,
          amount bigint NOT NULL CHECK (amount > 0),
          reason text NOT NULL,
          created_at timestamptz NOT NULL,
          prev_hash bytea NOT NULL,
          hash bytea NOT NULL,
          chain smallint NOT NULL);
        -- Ledgers from before the keyed chain: their rows stay format 1 (the verifier reports them), new rows are 2.
        ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS chain smallint NOT NULL DEFAULT 1;
        ALTER TABLE ledger_entries ALTER COLUMN chain DROP DEFAULT;
        CREATE UNIQUE INDEX IF NOT EXISTS ledger_entries_once ON ledger_entries (window_id, credit_account, reason);
        CREATE INDEX IF NOT EXISTS ledger_entries_debit ON ledger_entries (debit_account, seq);
        CREATE INDEX IF NOT EXISTS ledger_entries_credit ON ledger_entries (credit_account, seq);
        CREATE OR REPLACE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP; END $$;
        CREATE OR REPLACE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
          FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
        CREATE OR REPLACE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
          FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();
        CREATE TABLE IF NOT EXISTS account_balances (account text PRIMARY KEY, balance bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS payouts (
          window_id text PRIMARY KEY,
          request text NOT NULL,
          requested_at timestamptz NOT NULL DEFAULT now(),
          paid text NULL,
          paid_at timestamptz NULL);
        CREATE TABLE IF NOT EXISTS payout_voters (
          window_id text NOT NULL,
          account_id text NOT NULL,
          candidate_id text NOT NULL,
          votes bigint NOT NULL,
          PRIMARY KEY (window_id, account_id, candidate_id));
        CREATE TABLE IF NOT EXISTS payout_voter_chunks (
          window_id text NOT NULL,
          chunk_index int NOT NULL,
          PRIMARY KEY (window_id, chunk_index));
        CREATE TABLE IF NOT EXISTS reward_consent (
          account_id text PRIMARY KEY,
          granted boolean NOT NULL,
          changed_at timestamptz NOT NULL);
        -- A fan's points never go below zero: rewards checks under the chain lock, and the database refuses it too.
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'account_balances_fan_not_negative') THEN
            ALTER TABLE account_balances ADD CONSTRAINT account_balances_fan_not_negative CHECK (balance >= 0 OR account NOT LIKE 'fan:%');
          END IF;
        END $$;
        -- Spin wheels: the odds table as published, the salt of the server seed (the seed itself is derived with the
        -- ledger key, which the database never holds), its commitment, and the seed once revealed at the close.
        CREATE TABLE IF NOT EXISTS spin_wheels (
          wheel_id text PRIMARY KEY,
          name text NOT NULL,
          cost bigint NOT NULL CHECK (cost > 0),
          segments text NOT NULL,
          seed_salt bytea NOT NULL,
          commitment text NOT NULL,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          opens_at timestamptz NOT NULL,
          closes_at timestamptz NULL,
          closed_at timestamptz NULL,
          revealed_seed bytea NULL);
        -- One row per spin: the fan's key makes a retry or a replay the same spin; the nonce counts the fan's spins.
        CREATE TABLE IF NOT EXISTS spins (
          wheel_id text NOT NULL,
          account_id text NOT NULL,
          spin_key text NOT NULL,
          spin_id text NOT NULL UNIQUE,
          nonce bigint NOT NULL,
          client_seed text NOT NULL,
          segment int NOT NULL,
          prize bigint NOT NULL,
          cost bigint NOT NULL,
          balance_after bigint NOT NULL,
          spun_at timestamptz NOT NULL,
          PRIMARY KEY (wheel_id, account_id, spin_key),
          UNIQUE (wheel_id, account_id, nonce));
        CREATE INDEX IF NOT EXISTS spins_account ON spins (account_id, spun_at);
        -- Raffles: the definition as published when entries open, the seed's salt and commitment; at the draw the seed,
        -- the digest of the entry list drawn from and the winners (by ticket and per-raffle pseudonym).
        CREATE TABLE IF NOT EXISTS raffles (
          raffle_id text PRIMARY KEY,
          name text NOT NULL,
          ticket_cost bigint NOT NULL CHECK (ticket_cost >= 0),
          max_tickets int NOT NULL CHECK (max_tickets > 0),
          prizes text NOT NULL,
          seed_salt bytea NOT NULL,
          commitment text NOT NULL,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          opens_at timestamptz NOT NULL,
          closes_at timestamptz NOT NULL,
          draw_at timestamptz NOT NULL,
          tickets_taken bigint NOT NULL DEFAULT 0,
          drawn_at timestamptz NULL,
          revealed_seed bytea NULL,
          entries_digest text NULL,
          winners text NULL);
        -- One row per entry request: its tickets are first_ticket .. first_ticket + tickets - 1; the key makes a retry the same entry.
        CREATE TABLE IF NOT EXISTS raffle_entries (
          raffle_id text NOT NULL,
          account_id text NOT NULL,
          entry_key text NOT NULL,
          holder text NOT NULL,
          first_ticket bigint NOT NULL,
          tickets int NOT NULL CHECK (tickets > 0),
          cost bigint NOT NULL,
          entered_at timestamptz NOT NULL,
          PRIMARY KEY (raffle_id, account_id, entry_key),
          UNIQUE (raffle_id, first_ticket));
        ALTER TABLE raffles ADD COLUMN IF NOT EXISTS min_tier text NULL;
        -- A raffle table from before the ticket counter: the counter starts at the tickets already taken.
        ALTER TABLE raffles ADD COLUMN IF NOT EXISTS tickets_taken bigint NOT NULL DEFAULT 0;
        UPDATE raffles r SET tickets_taken = s.n
          FROM (SELECT raffle_id, max(first_ticket + tickets - 1) AS n FROM raffle_entries GROUP BY raffle_id) s
          WHERE s.raffle_id = r.raffle_id AND r.tickets_taken < s.n;
        -- VIP tiers: each fan's earned points per season ("lifetime" or a season's name) and the tier they reached,
        -- moved in the ledger transaction that credits them; tier changes wait in an outbox until published.
        CREATE TABLE IF NOT EXISTS fan_earned (
          account_id text NOT NULL,
          season text NOT NULL,
          earned bigint NOT NULL,
          tier text NOT NULL,
          PRIMARY KEY (account_id, season));
        CREATE TABLE IF NOT EXISTS tier_changes (
          seq bigserial PRIMARY KEY,
          account_id text NOT NULL,
          season text NOT NULL,
          from_tier text NOT NULL,
          to_tier text NOT NULL,
          earned bigint NOT NULL,
          changed_at timestamptz NOT NULL,
          published_at timestamptz NULL);
        CREATE INDEX IF NOT EXISTS tier_changes_pending ON tier_changes (seq) WHERE published_at IS NULL;
        -- Polls: the definition; each fan's one answer; one row per choice (the counts); what was last published to results.
        CREATE TABLE IF NOT EXISTS polls (
          poll_id text PRIMARY KEY,
          title text NOT NULL,
          questions text NOT NULL,
          hide_results boolean NOT NULL,
          min_tier text NULL,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          opens_at timestamptz NOT NULL,
          closes_at timestamptz NOT NULL,
          published_seq bigint NOT NULL DEFAULT 0,
          published_answers bigint NOT NULL DEFAULT -1,
          published_state text NULL);
        CREATE TABLE IF NOT EXISTS poll_answers (
          poll_id text NOT NULL,
          account_id text NOT NULL,
          answers text NOT NULL,
          answered_at timestamptz NOT NULL,
          PRIMARY KEY (poll_id, account_id));
        CREATE TABLE IF NOT EXISTS poll_choices (
          poll_id text NOT NULL,
          question int NOT NULL,
          option_id text NOT NULL,
          account_id text NOT NULL,
          PRIMARY KEY (poll_id, question, option_id, account_id));
        -- Trivia: the round (its questions with the sealed answers, the secret salt of their commitments), each fan's
        -- answer per question with the time it arrived, the questions scored, and when the round's points were credited.
        CREATE TABLE IF NOT EXISTS trivia_rounds (
          round_id text PRIMARY KEY,
          title text NOT NULL,
          questions text NOT NULL,
          seal_salt bytea NOT NULL,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          starts_at timestamptz NOT NULL,
          gap_seconds int NOT NULL,
          credited_at timestamptz NULL);
        CREATE TABLE IF NOT EXISTS trivia_answers (
          round_id text NOT NULL,
          question int NOT NULL,
          account_id text NOT NULL,
          choice text NOT NULL,
          answered_at timestamptz NOT NULL,
          points int NULL,
          PRIMARY KEY (round_id, question, account_id));
        CREATE TABLE IF NOT EXISTS trivia_scored (
          round_id text NOT NULL,
          question int NOT NULL,
          scored_at timestamptz NOT NULL,
          PRIMARY KEY (round_id, question));
        """;

    /// <summary>Creates or updates the schema and the restricted role of <paramref name="rewardsConnection"/> (its Username and Password).</summary>
    public static async Task MigrateAsync(string adminConnection, string rewardsConnection, CancellationToken ct)
    {
        var admin = new NpgsqlConnectionStringBuilder(adminConnection);
        var rewards = new NpgsqlConnectionStringBuilder(rewardsConnection);
        var role = rewards.Username ?? "";
        if (!RoleName().IsMatch(role))
        {
            throw new InvalidOperationException($"{Setting} must name the restricted role (Username=) in lower case letters, digits and '_' (e.g. fanvote_rewards), not '{role}'");
        }

        if (string.IsNullOrEmpty(rewards.Password))
        {
            throw new InvalidOperationException($"{Setting} must carry the restricted role's password (Password=): the migrate step sets it");
        }

        if (!string.IsNullOrEmpty(rewards.Database) && !string.IsNullOrEmpty(admin.Database) && rewards.Database != admin.Database)
        {
            throw new InvalidOperationException($"{AdminSetting} is for database '{admin.Database}' but {Setting} for '{rewards.Database}': both must name the ledger's database");
        }

        await using var conn = new NpgsqlConnection(adminConnection);
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await Exec(conn, tx, "SELECT pg_advisory_xact_lock(4242101)", ct);
        if (await Scalar<string>(conn, tx, "SELECT current_user::text", ct) == role)
        {
            throw new InvalidOperationException($"{Setting} and {AdminSetting} connect as the same role '{role}': rewards must run as a role of its own that owns nothing");
        }

        var exists = await Scalar<bool>(conn, tx, $"SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}')", ct);
        var password = rewards.Password.Replace("'", "''", StringComparison.Ordinal);
        await Exec(conn, tx, $"""
            {(exists ? "ALTER" : "CREATE")} ROLE "{role}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD '{password}'
            """, ct);

        // Whatever it was given before (membership in roles that may write, say) it loses.
        var memberOf = new List<string>();
        await using (var cmd = new NpgsqlCommand($"SELECT r.rolname::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = '{role}'", conn, tx))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                memberOf.Add(r.GetString(0));
            }
        }

        foreach (var other in memberOf)
        {
            await Exec(conn, tx, $"REVOKE \"{other.Replace("\"", "\"\"", StringComparison.Ordinal)}\" FROM \"{role}\"", ct);
        }

        await Exec(conn, tx, Tables, ct);
        await Exec(conn, tx, $"""
            GRANT CONNECT ON DATABASE "{(await Scalar<string>(conn, tx, "SELECT current_database()::text", ct)).Replace("\"", "\"\"", StringComparison.Ordinal)}" TO "{role}";
            GRANT USAGE ON SCHEMA public TO "{role}";
            REVOKE ALL ON ledger_entries, account_balances, payouts, payout_voters, payout_voter_chunks, spin_wheels, spins, raffles, raffle_entries, fan_earned, tier_changes, polls, poll_answers, poll_choices, trivia_rounds, trivia_answers, trivia_scored FROM PUBLIC, "{role}";
            GRANT SELECT, INSERT ON ledger_entries TO "{role}";
            GRANT SELECT, INSERT ON account_balances TO "{role}";
            GRANT UPDATE (balance) ON account_balances TO "{role}";
            GRANT SELECT, INSERT ON payouts TO "{role}";
            GRANT UPDATE (paid, paid_at) ON payouts TO "{role}";
            GRANT SELECT, INSERT, DELETE ON payout_voters, payout_voter_chunks TO "{role}";
            GRANT SELECT, INSERT ON reward_consent TO "{role}";
            GRANT UPDATE (granted, changed_at) ON reward_consent TO "{role}";
            GRANT SELECT, INSERT ON spin_wheels TO "{role}";
            GRANT UPDATE (closed_at, revealed_seed) ON spin_wheels TO "{role}";
            GRANT SELECT, INSERT ON spins TO "{role}";
            GRANT SELECT, INSERT ON raffles TO "{role}";
            GRANT UPDATE (drawn_at, revealed_seed, entries_digest, winners, tickets_taken) ON raffles TO "{role}";
            GRANT SELECT, INSERT ON raffle_entries TO "{role}";
            GRANT SELECT, INSERT ON fan_earned TO "{role}";
            GRANT UPDATE (earned, tier) ON fan_earned TO "{role}";
            GRANT SELECT, INSERT ON tier_changes TO "{role}";
            GRANT UPDATE (published_at) ON tier_changes TO "{role}";
            GRANT USAGE ON SEQUENCE tier_changes_seq_seq TO "{role}";
            GRANT SELECT, INSERT ON polls, poll_answers, poll_choices TO "{role}";
            GRANT UPDATE (published_seq, published_answers, published_state, opens_at, closes_at) ON polls TO "{role}";
            GRANT SELECT, INSERT ON trivia_rounds, trivia_answers, trivia_scored TO "{role}";
            GRANT UPDATE (credited_at) ON trivia_rounds TO "{role}";
            GRANT UPDATE (points) ON trivia_answers TO "{role}";
            """, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Creates the tables with <paramref name="conn"/> itself: only for a development database rewards connects to as its owner.</summary>
    public static async Task ApplyTablesAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conn);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await Exec(conn, tx, "SELECT pg_advisory_xact_lock(4242101)", ct);
        await Exec(conn, tx, Tables, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Who <paramref name="conn"/> is, whether the schema is migrated, and what it may do that it must not (null: nothing).</summary>
    public static async Task<LedgerAccess> CheckAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conn);
        await using var cmd = new NpgsqlCommand("""
            SELECT current_user::text, r.rolsuper, r.rolbypassrls,
                   to_regclass('ledger_entries') IS NOT NULL,
                   EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('ledger_entries') AND attname = 'chain' AND NOT attisdropped)
                   AND to_regclass('spins') IS NOT NULL AND to_regclass('raffle_entries') IS NOT NULL AND to_regclass('tier_changes') IS NOT NULL AND to_regclass('poll_choices') IS NOT NULL AND to_regclass('trivia_scored') IS NOT NULL
            FROM pg_roles r WHERE r.rolname = current_user
            """, conn);
        string role;
        bool super, exists, ready;
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            (role, super, exists, ready) = (r.GetString(0), r.GetBoolean(1) || r.GetBoolean(2), r.GetBoolean(3), r.GetBoolean(4));
        }

        var can = new List<string>();
        if (super)
        {
            can.Add("is a superuser");
        }

        if (exists)
        {
            await using var priv = new NpgsqlCommand("""
                SELECT pg_has_role(c.relowner, 'USAGE'), has_table_privilege(c.oid, 'UPDATE'), has_table_privilege(c.oid, 'DELETE'),
                       has_table_privilege(c.oid, 'TRUNCATE'), has_table_privilege(c.oid, 'TRIGGER')
                FROM pg_class c WHERE c.oid = to_regclass('ledger_entries')
                """, conn);
            await using var r = await priv.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            string[] what = ["owns ledger_entries", "may UPDATE ledger_entries", "may DELETE from ledger_entries", "may TRUNCATE ledger_entries", "may create triggers on ledger_entries"];
            for (var i = 0; i < what.Length; i++)
            {
                if (r.GetBoolean(i) && !super)
                {
                    can.Add(what[i]);
                }
            }
        }

        return new LedgerAccess(role, ready, can.Count == 0 ? null : string.Join(", ", can));
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex RoleName();

    private static async Task Exec(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        return (T)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
