using System.Data.Common;
using FanVote.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace FanVote.ServiceDefaults.Tests;

/// <summary>The start-up wait and the readiness probe tally and rewards use for their own PostgreSQL databases.</summary>
public sealed class DatabaseReadinessTests
{
    private static async Task<HealthReport> ProbeAsync(string connectionString, string sql)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(NpgsqlDataSource.Create(connectionString));
        services.AddHealthChecks().AddDatabaseProbe("db", sp => sp.GetRequiredService<NpgsqlDataSource>(), sql, "the test ledger");
        await using var provider = services.BuildServiceProvider();
        return await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains(FanVoteDefaults.ReadyTag), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Probe_IsHealthyWhenItsTableAnswers_UnhealthyNamingTheDatabaseWhenNot()
    {
        await using var db = await PostgresDatabase.CreateAsync("ready");
        await using (var conn = new NpgsqlConnection(db.ConnectionString))
        {
            await conn.OpenAsync(TestContext.Current.CancellationToken);
            await using var cmd = new NpgsqlCommand("CREATE TABLE ledger (id int)", conn);
            await cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var ready = await ProbeAsync(db.ConnectionString, "SELECT 1 FROM ledger LIMIT 1");
        var missingTable = await ProbeAsync(db.ConnectionString, "SELECT 1 FROM no_such_table LIMIT 1");
        var noServer = await ProbeAsync($"Host=127.0.0.1;Port={Ports.Free()};Username=postgres;Timeout=2", "SELECT 1");

        Assert.Equal(HealthStatus.Healthy, ready.Status);
        Assert.Equal(HealthStatus.Unhealthy, missingTable.Status);
        Assert.Equal("the test ledger (PostgreSQL) is not reachable or not initialised", missingTable.Entries["db"].Description);
        Assert.Equal(HealthStatus.Unhealthy, noServer.Status);
    }

    [Fact]
    public async Task InitializeWithRetry_WaitsOutDatabaseErrors_ButNotOtherFailures()
    {
        var attempts = 0;
        var waited = new List<DbException>();
        await DatabaseReadiness.InitializeWithRetryAsync(
            async ct =>
            {
                attempts++;
                await using var conn = new NpgsqlConnection(attempts < 3 ? $"Host=127.0.0.1;Port={Ports.Free()};Username=postgres;Timeout=2" : TestEnvironment.Postgres);
                await conn.OpenAsync(ct);
            },
            waited.Add,
            TestContext.Current.CancellationToken);

        Assert.Equal(3, attempts);
        Assert.Equal(2, waited.Count);

        var other = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => DatabaseReadiness.InitializeWithRetryAsync(
            _ => { other++; throw new InvalidOperationException("a bug, not a database that is still starting"); },
            _ => { },
            TestContext.Current.CancellationToken));
        Assert.Equal(1, other);
    }
}
