using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FanVote.Bench;

/// <summary>
/// Bounded memory (issue 12): pushes N votes (default 2,000,000) through a publisher sidecar into `pubsub.redis`,
/// consumed through a subscriber sidecar by a bulk-subscribing app that acknowledges everything (plus, with
/// <c>--groups 2</c>, a second app with its own consumer group), and samples Redis <c>used_memory</c>, the stream's
/// length and what was delivered, every second. The subscriber sidecars trim the stream below what every group
/// acknowledged (<c>FANVOTE_STREAM_TRIM_INTERVAL</c>, <c>--trim-interval</c>; 0 turns trimming off for a comparison).
/// </summary>
public static class SoakBench
{
    private const string Pubsub = "soak-bus";

    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var sidecarDll = args.Require("sidecar");
        var redis = args.Require("redis");
        var votes = args.Number("votes", 2_000_000);
        var rate = args.Number("rate", 20_000);
        var groups = Math.Max(1, args.Number("groups", 1));
        var bulkSize = args.Number("bulk-size", 100);
        var trim = args.Get("trim-interval", "2s");
        var settle = TimeSpan.FromSeconds(args.Number("settle", 20));
        var run = Guid.NewGuid().ToString("N")[..8];
        var topic = "soak-" + run;

        var dir = Directory.CreateTempSubdirectory("fanvote-soak-");
        await File.WriteAllTextAsync(Path.Combine(dir.FullName, "pubsub.yaml"), $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {Pubsub}
            spec:
              type: pubsub.redis
              version: v1
              metadata:
              - name: redisHost
                value: "{redis}"
              - name: processingTimeout
                value: "60s"
            """);

        var options = ConfigurationOptions.Parse(redis);
        options.AllowAdmin = true; // INFO memory, MEMORY PURGE
        using var mux = await ConnectionMultiplexer.ConnectAsync(options);
        var db = mux.GetDatabase();
        var server = mux.GetServer(mux.GetEndPoints()[0]);
        var counters = new long[groups];
        var apps = new List<WebApplication>();
        var processes = new List<Process>();
        try
        {
            for (var g = 0; g < groups; g++)
            {
                var appPort = FreePort();
                apps.Add(await StartAppAsync(topic, appPort, bulkSize, counters, g));
                processes.Add(StartSidecar(sidecarDll, $"soak-sub{g}-{run}", dir.FullName, appPort, trim));
            }

            var pubHttp = FreePort();
            var pubGrpc = FreePort();
            processes.Add(StartSidecar(sidecarDll, "soak-pub-" + run, dir.FullName, null, "0", pubHttp, pubGrpc));
            using var client = new DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{pubGrpc}").UseHttpEndpoint($"http://127.0.0.1:{pubHttp}").Build();
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
            {
                await client.WaitForSidecarAsync(cts.Token);
            }

            // The subscribers are up when their groups exist on the stream.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while ((await db.KeyExistsAsync(topic) ? (await db.StreamGroupInfoAsync(topic)).Length : 0) < groups)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException("the subscriber sidecars did not create their consumer groups in 90 s");
                }

                await Task.Delay(200);
            }

            await server.ExecuteAsync("MEMORY", "PURGE");
            var baseline = await UsedMemoryAsync(server);
            Console.WriteLine($"FanVote soak — {votes:N0} votes at up to {rate:N0}/s through the sidecar, {groups} consumer group(s), bulk {bulkSize}, " +
                $"trim every {trim} ({Environment.ProcessorCount} cores); Redis used_memory before: {Mb(baseline)}");
            Console.WriteLine();
            Console.WriteLine("    t s   published   delivered (slowest group)   stream length   used_memory");

            var sw = Stopwatch.StartNew();
            var published = 0L;
            var samples = new List<(double T, long Published, long Delivered, long Length, long Memory)>();
            var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                var next = 1;
                while (!sampling.IsCancellationRequested)
                {
                    try
                    {
                        await Task.Delay(1000, sampling.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }

                    var s = (sw.Elapsed.TotalSeconds, Volatile.Read(ref published), Slowest(counters), await db.StreamLengthAsync(topic), await UsedMemoryAsync(server));
                    lock (samples)
                    {
                        samples.Add(s);
                    }

                    if (s.TotalSeconds >= next * 5)
                    {
                        next = (int)(s.TotalSeconds / 5) + 1;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.TotalSeconds,7:F0} {s.Item2,11:N0} {s.Item3,27:N0} {s.Item4,15:N0} {Mb(s.Item5),13}"));
                    }
                }
            });

            var payload = new SoakVote(Guid.Empty, "w-" + run, "candidate-a", DateTimeOffset.UtcNow);
            var batch = Enumerable.Range(0, bulkSize).Select(_ => payload with { VoteId = Guid.NewGuid() }).ToList();
            var batches = (votes + bulkSize - 1) / bulkSize;
            var nextBatch = -1;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref nextBatch)) < batches)
                {
                    // Paced: batch i goes out no earlier than i * bulkSize / rate seconds after the start.
                    var due = TimeSpan.FromSeconds((double)i * bulkSize / rate);
                    if (due > sw.Elapsed)
                    {
                        await Task.Delay(due - sw.Elapsed);
                    }

                    var r = await client.BulkPublishEventAsync(Pubsub, topic, batch);
                    if (r.FailedEntries.Count > 0)
                    {
                        throw new InvalidOperationException($"bulk publish failed for {r.FailedEntries.Count} entries: {r.FailedEntries[0].ErrorMessage}");
                    }

                    Interlocked.Add(ref published, bulkSize);
                }
            }));
            var publishedIn = sw.Elapsed;
            var total = Volatile.Read(ref published);

            deadline = DateTime.UtcNow.AddMinutes(10);
            while (Slowest(counters) < total && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            var caughtUp = sw.Elapsed;
            await Task.Delay(settle);
            await sampling.CancelAsync();
            await sampler;

            List<(double T, long Published, long Delivered, long Length, long Memory)> all;
            lock (samples)
            {
                all = [.. samples];
            }

            var during = all.Where(s => s.T <= caughtUp.TotalSeconds).ToList();
            var after = all.Where(s => s.T > caughtUp.TotalSeconds).ToList();
            var delivered = Slowest(counters);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"published {total:N0} in {publishedIn.TotalSeconds:F0} s ({total / publishedIn.TotalSeconds:N0}/s); every group had them all after {caughtUp.TotalSeconds:F0} s (delivered to the slowest group: {delivered:N0})"));
            Console.WriteLine($"used_memory: before {Mb(baseline)}; peak while publishing {Mb(during.Count == 0 ? 0 : during.Max(s => s.Memory))}; " +
                $"after catching up min {Mb(after.Count == 0 ? 0 : after.Min(s => s.Memory))} / max {Mb(after.Count == 0 ? 0 : after.Max(s => s.Memory))} over {settle.TotalSeconds:F0} s; " +
                $"longest stream {(all.Count == 0 ? 0 : all.Max(s => s.Length)):N0} entries, at the end {await db.StreamLengthAsync(topic):N0}");
            var stored = await db.StreamLengthAsync(topic);
            if (delivered < total)
            {
                Console.WriteLine($"NOT CAUGHT UP: the slowest group got {delivered:N0} of {total:N0}");
                return 1;
            }

            Console.WriteLine(stored <= bulkSize * 10
                ? "flat: the stream holds only what is in flight once the consumers caught up"
                : $"the stream still holds {stored:N0} entries after the consumers caught up (is trimming off?)");
            return 0;
        }
        finally
        {
            foreach (var p in processes)
            {
                try
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync();
                }
                catch (InvalidOperationException)
                {
                }

                p.Dispose();
            }

            foreach (var a in apps)
            {
                await a.DisposeAsync();
            }

            await db.KeyDeleteAsync(topic);
            dir.Delete(recursive: true);
        }
    }

    /// <summary>A bulk subscriber that counts and acknowledges every entry.</summary>
    private static async Task<WebApplication> StartAppAsync(string topic, int port, int bulkSize, long[] counters, int index)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var app = builder.Build();
        var subscribe = JsonSerializer.Serialize(new[]
        {
            new
            {
                pubsubname = Pubsub, topic, routes = new { @default = "/soak" },
                bulkSubscribe = new { enabled = true, maxMessagesCount = Math.Max(bulkSize, 500), maxAwaitDurationMs = 20 },
            },
        });
        app.MapGet("/dapr/subscribe", () => Results.Text(subscribe, "application/json"));
        app.MapPost("/soak", async (HttpRequest req) =>
        {
            using var doc = await JsonDocument.ParseAsync(req.Body);
            var buffer = new ArrayBufferWriter<byte>();
            var n = 0;
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteStartArray("statuses");
                foreach (var e in doc.RootElement.GetProperty("entries").EnumerateArray())
                {
                    w.WriteStartObject();
                    w.WriteString("entryId", e.GetProperty("entryId").GetString());
                    w.WriteString("status", "SUCCESS");
                    w.WriteEndObject();
                    n++;
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            Interlocked.Add(ref counters[index], n);
            return Results.Bytes(buffer.WrittenMemory.ToArray(), "application/json");
        });
        await app.StartAsync();
        return app;
    }

    private static Process StartSidecar(string dll, string appId, string resources, int? appPort, string trim, int? http = null, int? grpc = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--app-id", appId, "--dapr-http-port", (http ?? FreePort()).ToString(CultureInfo.InvariantCulture),
                "--dapr-grpc-port", (grpc ?? FreePort()).ToString(CultureInfo.InvariantCulture), "--resources-path", resources, "--log-level", "warn" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (appPort is { } p)
        {
            psi.ArgumentList.Add("--app-port");
            psi.ArgumentList.Add(p.ToString(CultureInfo.InvariantCulture));
        }

        psi.Environment["FANVOTE_STREAM_TRIM_INTERVAL"] = trim;
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<long> UsedMemoryAsync(IServer server)
    {
        var info = await server.InfoAsync("memory");
        var v = info.SelectMany(g => g).FirstOrDefault(kv => kv.Key == "used_memory").Value;
        return long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) ? bytes : 0;
    }

    private static long Slowest(long[] counters)
    {
        var min = long.MaxValue;
        for (var i = 0; i < counters.Length; i++)
        {
            min = Math.Min(min, Interlocked.Read(ref counters[i]));
        }

        return min;
    }

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MB");

    private static int FreePort()
    {
        using var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    private sealed record SoakVote(Guid VoteId, string WindowId, string CandidateId, DateTimeOffset At);
}
