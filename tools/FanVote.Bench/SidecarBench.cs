using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dapr.Client;
using StackExchange.Redis;

namespace FanVote.Bench;

/// <summary>
/// Publish throughput through the local sidecar (DaprClient single and bulk publish over gRPC into
/// pubsub.redis) beside XADD sent straight to the same Redis with StackExchange.Redis, pipelined, in one run.
/// The ratio sidecar/XADD is the figure: it is what the sidecar hop costs on this machine.
/// </summary>
public static class SidecarBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var sidecarDll = args.Require("sidecar");
        var redis = args.Require("redis");
        var messages = args.Number("messages", 100_000);
        var concurrency = args.Number("concurrency", 64);
        var bulkSize = args.Number("bulk-size", 100);
        var payloadBytes = args.Number("payload", 120);
        var run = Guid.NewGuid().ToString("N")[..8];

        var dir = Directory.CreateTempSubdirectory("fanvote-bench-");
        await File.WriteAllTextAsync(Path.Combine(dir.FullName, "pubsub.yaml"), $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: bench-bus
            spec:
              type: pubsub.redis
              version: v1
              metadata:
              - name: redisHost
                value: "{redis}"
            """);
        var httpPort = FreePort();
        var grpcPort = FreePort();
        using var sidecar = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { sidecarDll, "--app-id", "bench-" + run, "--dapr-http-port", httpPort.ToString(CultureInfo.InvariantCulture),
                "--dapr-grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture), "--resources-path", dir.FullName, "--log-level", "warn" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        sidecar.OutputDataReceived += (_, _) => { };
        sidecar.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
        sidecar.BeginOutputReadLine();
        sidecar.BeginErrorReadLine();
        try
        {
            using var client = new DaprClientBuilder()
                .UseGrpcEndpoint($"http://127.0.0.1:{grpcPort}")
                .UseHttpEndpoint($"http://127.0.0.1:{httpPort}")
                .Build();
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await client.WaitForSidecarAsync(cts.Token);
            }

            var payload = new BenchVote("w-" + run, "candidate-a", new string('x', Math.Max(0, payloadBytes - 60)), DateTimeOffset.UtcNow);
            var envelopeBytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
            {
                id = Guid.NewGuid(), source = "bench", type = "com.dapr.event.sent", specversion = "1.0",
                datacontenttype = "application/json", data = payload, topic = "t", pubsubname = "bench-bus",
                traceid = "00-00000000000000000000000000000000-0000000000000000-00", time = DateTimeOffset.UtcNow,
            }, JsonSerializerOptions.Web));

            Console.WriteLine($"FanVote sidecar publish benchmark — {Environment.ProcessorCount} cores, {messages:N0} messages per run, payload ~{payloadBytes} B (envelope {envelopeBytes.Length} B)");
            Console.WriteLine();

            // Warm-up: JIT, connection pools, stream creation.
            await PublishSingleAsync(client, "warm-" + run, payload, 2_000, concurrency);
            await XaddAsync(redis, "warm-raw-" + run, envelopeBytes, 2_000, 1_000);

            var results = new List<RunResult>
            {
                await XaddAsync(redis, "bench-raw-" + run, envelopeBytes, messages, 1_000),
                await PublishSingleAsync(client, "bench-single-" + run, payload, messages, concurrency),
                await PublishBulkAsync(client, "bench-bulk-" + run, payload, messages, bulkSize, 8),
            };

            Console.WriteLine(RunResult.Header());
            foreach (var r in results)
            {
                Console.WriteLine(r.Row());
            }

            var raw = results[0].PerSecond;
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sidecar single publish = {results[1].PerSecond / raw:P1} of raw XADD; bulk publish = {results[2].PerSecond / raw:P1} of raw XADD"));
            await CleanupAsync(redis, run);
            return 0;
        }
        finally
        {
            sidecar.Kill(entireProcessTree: true);
            await sidecar.WaitForExitAsync();
            dir.Delete(recursive: true);
        }
    }

    private static async Task<RunResult> PublishSingleAsync(DaprClient client, string topic, BenchVote payload, int messages, int concurrency)
    {
        var latencies = new double[messages];
        var next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < messages)
            {
                var t0 = Stopwatch.GetTimestamp();
                await client.PublishEventAsync("bench-bus", topic, payload);
                latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }));
        return new RunResult($"sidecar PublishEvent ({concurrency} in flight)", messages, sw.Elapsed, latencies);
    }

    private static async Task<RunResult> PublishBulkAsync(DaprClient client, string topic, BenchVote payload, int messages, int bulkSize, int concurrency)
    {
        var batches = (messages + bulkSize - 1) / bulkSize;
        var latencies = new double[batches];
        var batch = Enumerable.Repeat(payload, bulkSize).ToList();
        var next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches)
            {
                var t0 = Stopwatch.GetTimestamp();
                var r = await client.BulkPublishEventAsync("bench-bus", topic, batch);
                if (r.FailedEntries.Count > 0)
                {
                    throw new InvalidOperationException($"bulk publish failed for {r.FailedEntries.Count} entries: {r.FailedEntries[0].ErrorMessage}");
                }

                latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }));
        return new RunResult($"sidecar BulkPublishEvent ({bulkSize}/call, {concurrency} in flight; latency per call)", (long)batches * bulkSize, sw.Elapsed, latencies);
    }

    private static async Task<RunResult> XaddAsync(string redis, string stream, byte[] envelope, int messages, int inFlight)
    {
        using var mux = await ConnectionMultiplexer.ConnectAsync(redis);
        var db = mux.GetDatabase();
        var latencies = new double[messages];
        var pending = new List<Task>(inFlight);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var index = i;
            pending.Add(db.StreamAddAsync(stream, [new NameValueEntry("data", envelope)])
                .ContinueWith(_ => latencies[index] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds, TaskScheduler.Default));
            if (pending.Count >= inFlight)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
        return new RunResult($"raw XADD, StackExchange.Redis ({inFlight} pipelined)", messages, sw.Elapsed, latencies);
    }

    private static async Task CleanupAsync(string redis, string run)
    {
        using var mux = await ConnectionMultiplexer.ConnectAsync(redis);
        var db = mux.GetDatabase();
        foreach (var key in new[] { "warm-", "warm-raw-", "bench-raw-", "bench-single-", "bench-bulk-" })
        {
            await db.KeyDeleteAsync(key + run);
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    private sealed record BenchVote(string WindowId, string CandidateId, string Padding, DateTimeOffset At);
}
