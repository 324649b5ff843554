using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Tally.Core;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FanVote.Tally.Adapters;

/// <summary>Creates the schema (waiting for PostgreSQL if it is still starting) and loads the persisted counts.</summary>
public sealed class LedgerStartup(IVoteLedger ledger, LiveTally live, ILogger<LedgerStartup> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        DatabaseReadiness.InitializeWithRetryAsync(
            async ct =>
            {
                await ledger.InitializeAsync(ct);
                var counts = await ledger.CountsAsync(null, ct);
                live.Apply(counts);
                TallyLog.LedgerReady(log, counts.Count);
            },
            e => TallyLog.LedgerWaiting(log, e),
            cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Publishes `tally-updated` snapshots: changed windows every interval, recently active ones again every couple of seconds.</summary>
public sealed class TallyPublisher(LiveTally live, TallyTraces traces, DaprClient dapr, IOptions<TallyOptions> options, TallyMetrics metrics, TimeProvider time, ILogger<TallyPublisher> log)
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
                await Task.WhenAll(due.Select(c => PublishAsync(c, now, stoppingToken)));
                metrics.Snapshots.Add(due.Count);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                live.MarkUnpublished(due);
                TallyLog.PublishFailed(log, e, due.Count);
            }
        }
    }

    /// <summary>One window's snapshot; when tracing is on, in a span that continues the traces of the votes it counts.</summary>
    private async Task PublishAsync(WindowCounts c, DateTimeOffset now, CancellationToken stoppingToken)
    {
        using var span = traces.StartPublish(c.WindowId, Topics.TallyUpdated);
        await dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.TallyUpdated, new TallyUpdated
        {
            EventId = Guid.NewGuid(),
            OccurredAt = now,
            WindowId = c.WindowId,
            Seq = c.Seq,
            Total = c.Total,
            Counts = c.Counts,
        }, stoppingToken);
    }
}

/// <summary>
/// The retention job: every <see cref="TallyOptions.RetentionEvery"/> (and once at start), minimizes what is past
/// <see cref="TallyOptions.PersonalDataFor"/> (<see cref="PostgresRetention"/>). A failed pass is logged and retried at
/// the next tick; nothing is lost by waiting.
/// </summary>
public sealed class RetentionWorker(PostgresRetention retention, IOptions<TallyOptions> options, TallyMetrics metrics, TimeProvider time, ILogger<RetentionWorker> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        using var timer = new PeriodicTimer(o.RetentionEvery, time);
        do
        {
            try
            {
                var pass = await retention.MinimizeAsync(time.GetUtcNow() - o.PersonalDataFor, stoppingToken);
                metrics.MinimizedVotes.Add(pass.Votes + pass.Quarantined);
                if (pass.Windows > 0 || pass.Quarantined > 0)
                {
                    TallyLog.Minimized(log, pass.Windows, pass.Votes, pass.Quarantined, pass.Flags, o.PersonalDataFor);
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                TallyLog.RetentionFailed(log, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
