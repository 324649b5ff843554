using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Tally.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace FanVote.Tally.Adapters;

/// <summary>Creates the schema (waiting for PostgreSQL if it is still starting) and loads the persisted counts.</summary>
public sealed class LedgerStartup(IVoteLedger ledger, LiveTally live, ILogger<LedgerStartup> log) : IHostedService
{
    public bool Ready { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await ledger.InitializeAsync(cancellationToken);
                var counts = await ledger.CountsAsync(null, cancellationToken);
                live.Apply(counts);
                TallyLog.LedgerReady(log, counts.Count);
                return;
            }
            catch (Npgsql.NpgsqlException e) when (attempt < 60)
            {
                TallyLog.LedgerWaiting(log, e);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Ready only when the ledger answers.</summary>
public sealed class LedgerHealthCheck(PostgresVoteLedger ledger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var cmd = ledger.DataSource.CreateCommand("SELECT 1 FROM votes LIMIT 1");
            await cmd.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Npgsql.NpgsqlException e)
        {
            return HealthCheckResult.Unhealthy("the vote ledger (PostgreSQL) is not reachable or not initialised", e);
        }
    }
}

/// <summary>Publishes `tally-updated` snapshots: changed windows every interval, recently active ones again every couple of seconds.</summary>
public sealed class TallyPublisher(LiveTally live, DaprClient dapr, IOptions<TallyOptions> options, TallyMetrics metrics, TimeProvider time, ILogger<TallyPublisher> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        using var timer = new PeriodicTimer(o.PublishInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var due = live.TakeDue(o.RepublishEvery, o.ActiveFor);
            if (due.Count == 0)
            {
                continue;
            }

            try
            {
                var now = time.GetUtcNow();
                await Task.WhenAll(due.Select(c => dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.TallyUpdated, new TallyUpdated
                {
                    EventId = Guid.NewGuid(),
                    OccurredAt = now,
                    WindowId = c.WindowId,
                    Seq = c.Seq,
                    Total = c.Total,
                    Counts = c.Counts,
                }, stoppingToken)));
                metrics.Snapshots.Add(due.Count);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                live.MarkUnpublished(due);
                TallyLog.PublishFailed(log, e, due.Count);
            }
        }
    }
}
