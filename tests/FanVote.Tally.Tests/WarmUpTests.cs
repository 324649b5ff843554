using FanVote.Contracts;
using FanVote.Testing;
using Npgsql;

namespace FanVote.Tally.Tests;

/// <summary>
/// Tally runs its hot path before it reports ready (docs/benchmarks.md, cold start): decode, screen and write real
/// batches to the ledger, each rolled back, so the ledger holds nothing of it.
/// </summary>
public sealed class WarmUpTests(ITestOutputHelper output)
{
    [Fact]
    public async Task BeforeReady_BatchesWereDecodedScreenedAndWritten_TheLedgerHoldsNothingOfThem()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var db = await PostgresDatabase.CreateAsync("tally-warm");
        await using var tally = new ServiceHost(AppIds.Tally, "FanVote.Tally", ResourceFolder.LocalComponents().Path,
            appEnv: new Dictionary<string, string?> { ["FANVOTE_PG_CONNECTION"] = db.ConnectionString, ["FanVote__WarmUpSeconds"] = "60" },
            redisHost: redis.Address);

        await tally.StartAsync(); // waits for /healthz: ready means the warm-up is over

        var lines = string.Join('\n', tally.App.Output.Split('\n').Where(l => l.Contains("warm", StringComparison.OrdinalIgnoreCase) && !l.Contains("Health check", StringComparison.Ordinal)));
        output.WriteLine(lines);
        var wrote = System.Text.RegularExpressions.Regex.Match(lines, @"wrote (\d+) of (\d+) warm-up votes in ([1-9]\d*) ledger batches");
        Assert.True(wrote.Success && wrote.Groups[1].Value == wrote.Groups[2].Value, $"tally did not write every warm-up batch; it said: {lines}");
        Assert.True(lines.Contains("warm: the hot path ran", StringComparison.Ordinal), $"no end of warm-up logged; tally said: {lines}");
        await using var ledger = NpgsqlDataSource.Create(db.ConnectionString);
        foreach (var table in new[] { "votes", "vote_counts", "window_totals", "quarantined_votes" })
        {
            await using var count = ledger.CreateCommand($"SELECT count(*) FROM {table}");
            Assert.Equal(0L, (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
        }
    }
}
