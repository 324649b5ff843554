using FanVote.ServiceDefaults.Auth;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Payouts;
using FanVote.ServiceDefaults;
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
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.AddFanSessions();
        builder.Services.ResolveOnStart<FanVote.Security.SessionTokens>();
        builder.Services.AddSingleton<RewardsMetrics>();
        builder.Services.AddSingleton<PostgresPointsLedger>();
        builder.Services.AddSingleton<PayoutService>();
        builder.Services.AddHostedService<LedgerStartup>();
        builder.Services.AddHealthChecks().AddDatabaseProbe("points-ledger", sp => sp.GetRequiredService<PostgresPointsLedger>().DataSource, "SELECT 1 FROM ledger_entries LIMIT 1", "the points ledger");
        return builder;
    }
}

/// <summary>Creates the schema, waiting for PostgreSQL if it is still starting.</summary>
public sealed class LedgerStartup(PostgresPointsLedger ledger, ILogger<LedgerStartup> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        DatabaseReadiness.InitializeWithRetryAsync(ledger.InitializeAsync, e => RewardsLog.LedgerWaiting(log, e), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
