using System.Threading.Channels;
using Dapr;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using Grpc.Core;

namespace FanVote.Fraud.Scoring;

/// <summary>
/// Tells the orchestrator (`window-reports`, <see cref="ModelActivated"/>) each time this instance switches to a model,
/// for the action log: which model judged votes from when. Queued, so a switch never waits on the sidecar (the first one
/// happens before the sidecar is up); each announcement is published again every 2 s until it goes through.
/// </summary>
public sealed class ModelAnnouncer(DaprClient dapr, TimeProvider time, ILogger<ModelAnnouncer> log) : BackgroundService
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(2);
    private readonly Channel<ModelActivated> _queue = Channel.CreateBounded<ModelActivated>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });

    public void Announce(string version, string? previous, string algorithm, double threshold) =>
        _queue.Writer.TryWrite(new ModelActivated
        {
            EventId = Guid.NewGuid(), OccurredAt = time.GetUtcNow(), Version = version, Previous = previous, Algorithm = algorithm, Threshold = threshold,
            Instance = $"{Environment.MachineName}/{Environment.ProcessId}",
        });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var e in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await dapr.PublishTypedAsync(Topics.WindowReports, EventTypes.ModelActivated, e, stoppingToken);
                        break;
                    }
                    catch (Exception ex) when (ex is DaprException or RpcException or HttpRequestException && !stoppingToken.IsCancellationRequested)
                    {
                        if (attempt == 1)
                        {
                            FraudLog.AnnounceRetrying(log, e.Version, ex.Message);
                        }

                        await Task.Delay(RetryEvery, time, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: an announcement not yet sent is lost with the process (its successor announces its own model).
        }
    }
}
