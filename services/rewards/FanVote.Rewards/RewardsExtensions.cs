using FanVote.Ingress.Core;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Payouts;
using FanVote.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace FanVote.Rewards;

public static class RewardsExtensions
{
    public static WebApplicationBuilder AddRewards(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<RewardsOptions>()
            .BindConfiguration("Rewards")
            .Configure<IConfiguration>((o, c) =>
            {
                o.ConnectionString = c["FANVOTE_PG_CONNECTION"] is { Length: > 0 } cs ? cs : o.ConnectionString;
                o.TokenKeys = c["FANVOTE_TOKEN_KEYS"] is { Length: > 0 } k ? k : o.TokenKeys;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RewardsMetrics>();
        builder.Services.AddSingleton<PostgresPointsLedger>();
        builder.Services.AddSingleton<PayoutService>();
        builder.Services.AddSingleton(sp =>
        {
            var keys = SessionKeyRing.Parse(sp.GetRequiredService<IOptions<RewardsOptions>>().Value.TokenKeys, out var development);
            if (development)
            {
                RewardsLog.DevelopmentKey(sp.GetRequiredService<ILogger<SessionTokens>>());
            }

            // The lifetime only matters for issuing; rewards only checks tokens.
            return new SessionTokens(keys, TimeSpan.FromHours(12), sp.GetRequiredService<TimeProvider>());
        });
        builder.Services.AddHostedService<LedgerStartup>();
        builder.Services.AddHealthChecks().AddCheck<LedgerHealthCheck>("points-ledger", tags: [FanVoteDefaults.ReadyTag]);
        return builder;
    }
}

/// <summary>Creates the schema, waiting for PostgreSQL if it is still starting.</summary>
public sealed class LedgerStartup(PostgresPointsLedger ledger, ILogger<LedgerStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await ledger.InitializeAsync(cancellationToken);
                return;
            }
            catch (Npgsql.NpgsqlException e) when (attempt < 60)
            {
                RewardsLog.LedgerWaiting(log, e);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Ready only when the points ledger answers.</summary>
public sealed class LedgerHealthCheck(PostgresPointsLedger ledger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var cmd = ledger.DataSource.CreateCommand("SELECT 1 FROM ledger_entries LIMIT 1");
            await cmd.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Npgsql.NpgsqlException e)
        {
            return HealthCheckResult.Unhealthy("the points ledger (PostgreSQL) is not reachable or not initialised", e);
        }
    }
}
