using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using FanVote.Security;
using FanVote.Testing;
using Npgsql;

namespace FanVote.Rewards.Tests;

/// <summary>
/// Issue 11 item 7 (review finding M4): the role rewards connects as cannot rewrite the ledger; whoever can (the
/// database's admin) cannot re-chain it without the ledger key, nor cut its tail without the anchors showing it.
/// </summary>
public sealed partial class RewardsTests
{
    private static readonly LedgerKey Key = new(TestKeys.LedgerKey);

    [Fact]
    public async Task RestrictedRole_CannotUpdateDeleteTruncateOrDisableTheTrigger_AndIsNoSuperuser()
    {
        var window = "r-" + Guid.NewGuid().ToString("N")[..6];
        var (voters, request) = RewardsRig.Payout(window, voters: 4, chunkSize: 10, Rules);
        await PayAsync(window, voters, request, chunkSize: 10);
        var seq = await rig.ScalarAsync("SELECT min(seq) FROM ledger_entries WHERE window_id = $1", window);

        string[] refused =
        [
            $"UPDATE ledger_entries SET amount = amount + 1 WHERE seq = {seq}",
            $"DELETE FROM ledger_entries WHERE seq = {seq}",
            "TRUNCATE ledger_entries",
            "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only",
            "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
            "SET session_replication_role = replica",
            "CREATE OR REPLACE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "UPDATE account_balances SET account = 'fan:someone-else'",
            "DELETE FROM account_balances",
            "UPDATE payouts SET request = '{}'",
            "DELETE FROM payouts",
            $"ALTER ROLE \"{rig.Role}\" SUPERUSER",
        ];
        await using var db = NpgsqlDataSource.Create(rig.RewardsConnection);
        foreach (var sql in refused)
        {
            await using var cmd = db.CreateCommand(sql);
            var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
            // 42501 insufficient_privilege: refused for the role, not stopped later by a trigger (P0001) that an owner could disable.
            Assert.True(e.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {e.SqlState} {e.MessageText}");
        }

        await using (var who = db.CreateCommand("SELECT rolsuper OR rolbypassrls OR rolcreaterole FROM pg_roles WHERE rolname = current_user"))
        {
            Assert.Equal(false, await who.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        }

        Assert.Equal(seq, await rig.ScalarAsync("SELECT min(seq) FROM ledger_entries WHERE window_id = $1", window));
    }

    [Fact]
    public async Task Rewards_OutsideDevelopment_RefusesAConnectionThatCouldRewriteTheLedger()
    {
        var env = new Dictionary<string, string?>(TestKeys.AppEnvironment(AppIds.Rewards))
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Ports.Free()}",
            ["FANVOTE_REWARDS_PG_CONNECTION"] = rig.Db.ConnectionString, // the admin: owner of the tables
            ["FANVOTE_LEDGER_ANCHORS"] = rig.AnchorFile + ".unused",
        };
        await using var app = ManagedProcess.Dotnet("rewards-privileged", TestEnvironment.ProjectDll("FanVote.Rewards"), [], env).Start();

        var exit = await app.WaitForExitAsync(TimeSpan.FromSeconds(120));
        await Task.Delay(100, TestContext.Current.CancellationToken);

        Assert.NotEqual(0, exit);
        Assert.Contains("could rewrite the points ledger", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerVerify_RewrittenByTheAdminAndRechainedWithoutTheKey_Fails()
    {
        var window = "k-" + Guid.NewGuid().ToString("N")[..6];
        var (voters, request) = RewardsRig.Payout(window, voters: 5, chunkSize: 10, Rules);
        await PayAsync(window, voters, request, chunkSize: 10);
        var k = await rig.ScalarAsync("SELECT min(seq) + 1 FROM ledger_entries WHERE window_id = $1", window);
        var (intact, intactText) = await VerifyAsync();
        Assert.True(intact == 0, intactText);

        var attackerKey = new LedgerKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var results = new List<(string How, int Exit, string Output)>();
        foreach (var (how, rechain) in new (string, Func<LedgerEntry, LedgerEntry>)[]
        {
            ("unkeyed SHA-256 as format 1", e => e with { Chain = LedgerChain.UnkeyedVersion, Hash = LedgerChain.UnkeyedHash(e) }),
            ("unkeyed SHA-256 claiming format 2", e => e with { Hash = LedgerChain.UnkeyedHash(e) }),
            ("HMAC under a key of the attacker's", e => e with { Hash = LedgerChain.Hash(attackerKey, e)! }),
        })
        {
            await using var saved = await SaveAsync(k);
            // Row k now pays 999,999 points to the attacker; every row from k on is chained again, the balances made to match.
            await RewriteAsync(k, row => row.Seq == k ? row with { Credit = Accounts.Fan("g_attacker"), Amount = 999_999 } : row, rechain);
            // The key alone must catch it: the latest anchor would too (its head changed), but rows after it have only the key.
            var (exit, output) = await VerifyAsync("--no-anchors", "yes");
            var (withAnchors, withAnchorsOutput) = await VerifyAsync();
            Assert.True(withAnchors == 1, withAnchorsOutput);
            results.Add((how, exit, output));
        }

        foreach (var (how, exit, output) in results)
        {
            Assert.True(exit == 1, $"{how}: {output}");
            Assert.Contains($"row {k} ", output, StringComparison.Ordinal);
        }

        Assert.Contains("unkeyed: row", results[0].Output, StringComparison.Ordinal);
        Assert.Contains($"changed: row {k} ", results[1].Output, StringComparison.Ordinal);
        Assert.Contains($"changed: row {k} ", results[2].Output, StringComparison.Ordinal);
        var (restored, restoredText) = await VerifyAsync();
        Assert.True(restored == 0, restoredText);
    }

    [Fact]
    public async Task LedgerVerify_TailCutByTheAdmin_FailsAgainstTheLatestAnchor_UntouchedMatchesIt()
    {
        var window = "a-" + Guid.NewGuid().ToString("N")[..6];
        var (voters, request) = RewardsRig.Payout(window, voters: 6, chunkSize: 10, Rules);
        await PayAsync(window, voters, request, chunkSize: 10);
        var reward = new RewardRequested { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, AccountId = "anchored-fan", Reason = "goodwill", Points = 7 };
        await rig.Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.RewardRequests, reward, cancellationToken: TestContext.Current.CancellationToken);
        var head = 0L;
        await Until(async () => (head = await rig.ScalarAsync("SELECT coalesce(max(seq), 0) FROM ledger_entries")) > 0 &&
            await rig.ScalarAsync("SELECT count(*) FROM ledger_entries WHERE credit_account = 'fan:anchored-fan'") == 1 &&
            LatestAnchor()?.Seq == head, "the single credit is booked and its head anchored");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(rig.AnchorFile));
        var anchors = LedgerAnchors.Read(Key, File.ReadAllLines(rig.AnchorFile));
        Assert.Empty(anchors.Bad);
        var (intact, intactText) = await VerifyAsync();
        Assert.True(intact == 0, intactText);
        // Another row may have been booked (and anchored) since: the anchor verify matched is the latest, at or past head.
        var matched = System.Text.RegularExpressions.Regex.Match(intactText, @"matches the latest anchor, row (\d+) ");
        Assert.True(matched.Success && long.Parse(matched.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= head, intactText);
        head = long.Parse(matched.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        await using (await SaveAsync(head - 2))
        {
            // The admin cuts the last three rows and fixes the balances: what is left is a well-keyed chain.
            await RewriteAsync(head - 2, null, null);
            var (chainOnly, chainOnlyText) = await VerifyAsync("--no-anchors", "yes");
            var (cut, cutText) = await VerifyAsync();

            Assert.True(chainOnly == 0, "without its anchors the cut ledger verifies, which is why they exist: " + chainOnlyText);
            Assert.True(cut == 1, cutText);
            var missing = System.Text.RegularExpressions.Regex.Match(cutText, @"head: row (\d+), recorded as a head of the ledger \(the latest anchor in " + System.Text.RegularExpressions.Regex.Escape(rig.AnchorFile));
            Assert.True(missing.Success && long.Parse(missing.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= head, cutText);
        }

        // A line added to the anchor file without the key is named, and does not count.
        var forged = LedgerAnchors.Line(new LedgerKey(new byte[32]), new ChainAnchor(head + 100, new byte[32], DateTimeOffset.UtcNow));
        var before = await File.ReadAllTextAsync(rig.AnchorFile, TestContext.Current.CancellationToken);
        await File.AppendAllTextAsync(rig.AnchorFile, forged + "\n", TestContext.Current.CancellationToken);
        try
        {
            var (withForged, withForgedText) = await VerifyAsync();
            Assert.True(withForged == 1, withForgedText);
            Assert.Contains("its MAC does not check", withForgedText, StringComparison.Ordinal);
            Assert.DoesNotContain("head:", withForgedText, StringComparison.Ordinal);
        }
        finally
        {
            await File.WriteAllTextAsync(rig.AnchorFile, before, TestContext.Current.CancellationToken);
        }

        var (restored, restoredText) = await VerifyAsync();
        Assert.True(restored == 0, restoredText);
    }

    private ChainAnchor? LatestAnchor() =>
        File.Exists(rig.AnchorFile) ? LedgerAnchors.Read(Key, File.ReadAllLines(rig.AnchorFile)).Latest : null;

    /// <summary>
    /// As the database's admin: with the append-only trigger off, replaces the rows from <paramref name="from"/> on by
    /// <paramref name="change"/>d ones chained again with <paramref name="rechain"/> (null: removes them), and sets every
    /// balance to what the entries add up to.
    /// </summary>
    private async Task RewriteAsync(long from, Func<LedgerEntry, LedgerEntry>? change, Func<LedgerEntry, LedgerEntry>? rechain)
    {
        await using var db = NpgsqlDataSource.Create(rig.Db.ConnectionString);
        var rows = new List<LedgerEntry>();
        await using (var cmd = db.CreateCommand("SELECT seq, entry_id, window_id, debit_account, credit_account, amount, reason, created_at, prev_hash, hash, chain FROM ledger_entries WHERE seq >= $1 ORDER BY seq"))
        {
            cmd.Parameters.AddWithValue(from);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                rows.Add(new LedgerEntry(r.GetInt64(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetString(6),
                    r.GetFieldValue<DateTimeOffset>(7), (byte[])r[8], (byte[])r[9]) { Chain = r.GetInt16(10) });
            }
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await Exec(conn, "ALTER TABLE ledger_entries DISABLE TRIGGER USER");
        await Exec(conn, $"DELETE FROM ledger_entries WHERE seq >= {from}");
        if (change is not null && rechain is not null)
        {
            var prev = rows[0].PrevHash;
            foreach (var row in rows)
            {
                var e = rechain(change(row) with { PrevHash = prev });
                prev = e.Hash;
                await using var insert = new NpgsqlCommand("INSERT INTO ledger_entries VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", conn, tx);
                foreach (var v in new object[] { e.Seq, e.EntryId, e.WindowId, e.Debit, e.Credit, e.Amount, e.Reason, e.CreatedAt, e.PrevHash, e.Hash, (short)e.Chain })
                {
                    insert.Parameters.AddWithValue(v);
                }

                await insert.ExecuteNonQueryAsync();
            }
        }

        await Exec(conn, """
            DELETE FROM account_balances;
            INSERT INTO account_balances SELECT account, sum(delta) FROM (
              SELECT credit_account AS account, amount AS delta FROM ledger_entries UNION ALL SELECT debit_account, -amount FROM ledger_entries) d GROUP BY account
            """);
        await Exec(conn, "ALTER TABLE ledger_entries ENABLE TRIGGER USER");
        await tx.CommitAsync();

        async Task Exec(NpgsqlConnection c, string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, c, tx);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Keeps the rows from <paramref name="from"/> on and all balances; disposing puts them back exactly.</summary>
    private async Task<SavedLedger> SaveAsync(long from)
    {
        var name = "saved_" + Guid.NewGuid().ToString("N")[..8];
        await rig.ExecAsync($"CREATE TABLE {name}_rows AS SELECT * FROM ledger_entries WHERE seq >= {from}; CREATE TABLE {name}_balances AS SELECT * FROM account_balances");
        return new SavedLedger(rig, name, from);
    }

    private sealed class SavedLedger(RewardsRig rig, string name, long from) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await rig.ExecAsync($"""
            BEGIN;
            ALTER TABLE ledger_entries DISABLE TRIGGER USER;
            DELETE FROM ledger_entries WHERE seq >= {from};
            INSERT INTO ledger_entries SELECT * FROM {name}_rows;
            DELETE FROM account_balances;
            INSERT INTO account_balances SELECT * FROM {name}_balances;
            ALTER TABLE ledger_entries ENABLE TRIGGER USER;
            DROP TABLE {name}_rows; DROP TABLE {name}_balances;
            COMMIT;
            """);
    }
}
