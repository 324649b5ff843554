using Dapr.Workflow;
using FanVote.ServiceDefaults.Auth;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Core;
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
                o.ConnectionString = c[LedgerSchema.Setting] is { Length: > 0 } cs ? cs : c["FANVOTE_PG_CONNECTION"] is { Length: > 0 } legacy ? legacy : o.ConnectionString;
                o.AnchorFile = c[LedgerAnchors.Setting] is { Length: > 0 } anchors ? anchors : o.AnchorFile;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddExceptionHandler<LedgerBusyHandler>();
        builder.AddFanSessions();
        builder.AddOperatorKey();
        builder.Services.ResolveOnStart<FanVote.Security.SessionTokens>();
        // The ledger key: only rewards (and whoever verifies the ledger) holds it, never the database.
        builder.Services.AddSingleton(sp => new LedgerKey(sp.Key(builder.Configuration, LedgerKey.Setting, "ledger")));
        builder.Services.ResolveOnStart<LedgerKey>();
        builder.Services.AddSingleton<LedgerAnchorLog>();
        builder.Services.AddSingleton<RewardsMetrics>();
        builder.Services.AddSingleton<PostgresPointsLedger>();
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<RewardsOptions>>().Value;
            return new VipTiers(o.Tiers.Count == 0 ? VipTiers.Default : [.. o.Tiers.Select(t => new VipTier(t.Name, t.MinPoints, t.ExtraTickets, t.Badge))], o.Season);
        });
        builder.Services.ResolveOnStart<VipTiers>();
        builder.Services.AddSingleton<PostgresTiers>();
        builder.Services.AddHostedService<TierPublisher>();
        builder.Services.AddSingleton<PostgresSpinWheels>();
        builder.Services.AddSingleton<PostgresPolls>();
        builder.Services.AddSingleton<PostgresLineup>();
        // Trivia rounds and raffle draws run as Dapr workflows on rewards' sidecar (Workflows/FormatWorkflows.cs),
        // registered by Dapr.Workflow's source generator.
        builder.Services.AddDaprWorkflowBuilder(_ => { }, (_, _) => { }).WithJsonSerializer(FanVote.Contracts.FanVoteJson.Options);
        builder.Services.AddSingleton<FanVote.Rewards.Workflows.FormatSchedules>();
        builder.Services.AddSingleton<PostgresTrivia>();
        builder.Services.AddHostedService<PollPublisher>();
        builder.Services.AddSingleton<PostgresRaffles>();
        builder.Services.AddSingleton<IFanDataHolder, RewardsFanData>();
        builder.Services.AddSingleton<PayoutService>();
        builder.Services.AddHostedService<ConsentRetryWorker>();
        builder.Services.AddHostedService<LedgerStartup>();
        builder.Services.AddHostedService<LedgerAnchoring>();
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

/// <summary>Anchors the ledger's head every <see cref="RewardsOptions.AnchorInterval"/> when it moved (the anchor after a commit may have failed, or been another instance's).</summary>
public sealed class LedgerAnchoring(PostgresPointsLedger ledger, LedgerAnchorLog anchors, IOptions<RewardsOptions> options, ILogger<LedgerAnchoring> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (anchors.Path is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.AnchorInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var before = anchors.AnchoredSeq;
                var seq = await ledger.AnchorHeadAsync(stoppingToken);
                if (seq > before)
                {
                    RewardsLog.Anchored(log, seq);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
            {
                RewardsLog.AnchorFailed(log, e, anchors.AnchoredSeq);
            }
        }
    }
}
