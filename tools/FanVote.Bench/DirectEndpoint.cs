using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress;
using FanVote.Ingress.Core;
using FanVote.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FanVote.Bench;

/// <summary>
/// The second baseline of the pipeline benchmark (issue 18): ingress's own host, as its Program composes it (the
/// defaults, the session scheme, the admission script, receipts, seal, the vote desk and endpoint), with one part
/// changed: an accepted vote goes from the desk straight to Redis, in batches (group commit, as ingress's batcher) of
/// pipelined XADDs to a stream of its own on ingress's Redis, is then marked committed, and the 202 is written only
/// after that. No sidecar: ingress / direct is what the sidecar hop costs, direct / bare what the durable work costs.
/// Run by the benchmark with ingress's environment (its keys, its Redis), for a window of its own.
/// </summary>
public static class DirectEndpoint
{
    /// <summary>The stream the direct votes go to (nothing reads it; trimmed to about <see cref="MaxLength"/> entries).</summary>
    public const string Stream = "bench-direct-votes";

    private const int MaxLength = 200_000;

    public static int Run(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{args.Number("port", 5091).ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        builder.AddFanVoteDefaults(AppIds.Ingress);
        builder.AddIngress();
        builder.Services.AddSingleton<DirectStreamPublisher>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IVotePublisher>(sp => sp.GetRequiredService<DirectStreamPublisher>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DirectStreamPublisher>());
        var app = builder.Build();
        app.UseForwardedHeaders();
        app.MapIngressEndpoints();
        app.MapFanVoteDefaultEndpoints();
        return app.RunFanVote();
    }

    /// <summary>Group commit to a Redis stream: a batch is one pipeline of XADDs, then one commit call, then every request is released.</summary>
    private sealed class DirectStreamPublisher : BackgroundService, IVotePublisher
    {
        private readonly GroupCommit<(VoteAccepted Vote, VoteCommit Commit, TaskCompletionSource<bool> Done)> _queue;
        private readonly IConnectionMultiplexer _redis;
        private readonly IAdmissionStore _admission;
        private readonly IngressOptions _options;

        public DirectStreamPublisher(IConnectionMultiplexer redis, IAdmissionStore admission, IOptions<IngressOptions> options)
        {
            _redis = redis;
            _admission = admission;
            _options = options.Value;
            _queue = new(_options.MaxQueue, _options.MaxBatch, SendAsync);
        }

        public Task<bool> PublishAsync(VoteAccepted vote, VoteCommit commit)
        {
            var done = new TaskCompletionSource<bool>();
            return _queue.TryEnqueue((vote, commit, done)) ? done.Task : Task.FromResult(false);
        }

        protected override Task ExecuteAsync(CancellationToken stoppingToken) => _queue.RunAsync(_options.Publishers, stoppingToken);

        private async Task SendAsync(List<(VoteAccepted Vote, VoteCommit Commit, TaskCompletionSource<bool> Done)> batch, CancellationToken stop)
        {
            try
            {
                var db = _redis.GetDatabase();
                var pipeline = db.CreateBatch();
                var adds = new Task[batch.Count];
                for (var i = 0; i < batch.Count; i++)
                {
                    adds[i] = pipeline.StreamAddAsync(Stream, "data", JsonSerializer.SerializeToUtf8Bytes(batch[i].Vote, FanVoteJson.Options), maxLength: MaxLength, useApproximateMaxLength: true);
                }

                pipeline.Execute();
                await Task.WhenAll(adds);
                await _admission.CommitAsync([.. batch.Select(b => b.Commit)], stop);
                foreach (var b in batch)
                {
                    b.Done.TrySetResult(true);
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException)
            {
                foreach (var b in batch)
                {
                    b.Done.TrySetResult(false);
                }
            }
        }
    }
}
