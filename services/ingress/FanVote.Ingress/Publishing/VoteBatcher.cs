using System.Diagnostics;
using System.Threading.Channels;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using Microsoft.Extensions.Options;

namespace FanVote.Ingress.Publishing;

/// <summary>
/// Group commit: votes from many requests go to the broker in one bulk publish, and each request is released
/// only when the broker acknowledged its own entry. A failed entry or call fails just those requests (503).
/// </summary>
public sealed class VoteBatcher : BackgroundService
{
    private readonly Channel<Pending> _queue;
    private readonly DaprClient _dapr;
    private readonly IngressOptions _options;
    private readonly IngressMetrics _metrics;
    private readonly ILogger<VoteBatcher> _log;

    public VoteBatcher(DaprClient dapr, IOptions<IngressOptions> options, IngressMetrics metrics, ILogger<VoteBatcher> log)
    {
        _dapr = dapr;
        _options = options.Value;
        _metrics = metrics;
        _log = log;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.MaxQueue) { FullMode = BoundedChannelFullMode.Wait });
        metrics.ObserveQueue(() => _queue.Reader.Count);
    }

    /// <summary>True once the broker acknowledged the vote; false when it did not (in time).</summary>
    public async Task<bool> PublishAsync(VoteAccepted vote, CancellationToken cancellationToken)
    {
        var pending = new Pending(vote, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            return false; // queue full: shed load now rather than time out later
        }

        try
        {
            return await pending.Done.Task.WaitAsync(_options.AckTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.Publishers).Select(_ => Task.Run(() => PublishLoopAsync(stoppingToken), stoppingToken)));

    private async Task PublishLoopAsync(CancellationToken stop)
    {
        var batch = new List<Pending>(_options.MaxBatch);
        while (await _queue.Reader.WaitToReadAsync(stop))
        {
            batch.Clear();
            var deadline = Stopwatch.GetTimestamp() + (long)(_options.MaxBatchWait.TotalSeconds * Stopwatch.Frequency);
            while (batch.Count < _options.MaxBatch)
            {
                if (_queue.Reader.TryRead(out var p))
                {
                    batch.Add(p);
                    continue;
                }

                if (batch.Count == 0 || Stopwatch.GetTimestamp() >= deadline)
                {
                    break;
                }

                await Task.Yield();
            }

            if (batch.Count > 0)
            {
                await SendAsync(batch, stop);
            }
        }
    }

    private async Task SendAsync(List<Pending> batch, CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var events = batch.Select(p => p.Vote).ToList();
            var response = await _dapr.BulkPublishEventAsync(ComponentNames.VoteBus, Topics.Votes, events, cancellationToken: stop);
            var failed = response.FailedEntries.Select(f => f.Entry.EventData).ToHashSet(ReferenceEqualityComparer.Instance);
            foreach (var p in batch)
            {
                p.Done.TrySetResult(!failed.Contains(p.Vote));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            IngressLog.PublishFailed(_log, e, batch.Count);
            foreach (var p in batch)
            {
                p.Done.TrySetResult(false);
            }
        }

        _metrics.BatchSize.Record(batch.Count);
        _metrics.PublishLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private sealed record Pending(VoteAccepted Vote, TaskCompletionSource<bool> Done);
}
