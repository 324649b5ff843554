using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Bench;

/// <summary>
/// Open SSE streams one results instance holds: the results app beside its local sidecar on the local
/// components, N raw-socket clients on its stream, then tally-updated snapshots published through a second
/// sidecar. Per N: time to open the streams, the app's resident memory, and update → seen on every stream
/// (p50/p99/max over all streams and updates). Clients run on the same machine, so the figure is a floor.
/// </summary>
public static class StreamsBench
{
    private const string Window = "bench-streams";

    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var results = args.Require("results");
        var sidecar = args.Require("sidecar");
        var resources = args.Require("resources");
        var redis = args.Require("redis");
        var levels = args.Get("streams", "1000,5000,10000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var updates = args.Number("updates", 5);
        var hold = args.Number("hold", 0); // seconds to keep each level's streams open after measuring (for a heap dump of the app)

        var appPort = FreePort();
        var (sideHttp, sideGrpc, pubHttp, pubGrpc, orchHttp, orchGrpc) = (FreePort(), FreePort(), FreePort(), FreePort(), FreePort(), FreePort());
        var env = BenchSecrets.With(new Dictionary<string, string> { ["FANVOTE_REDIS_HOST"] = redis });
        using var resultsSidecar = Start("dotnet", [sidecar, "--app-id", AppIds.Results, "--app-port", Num(appPort), "--dapr-http-port", Num(sideHttp), "--dapr-grpc-port", Num(sideGrpc), "--resources-path", resources, "--log-level", "warn"], env);
        using var app = Start("dotnet", [results], new(env)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{appPort}", ["DAPR_HTTP_PORT"] = Num(sideHttp), ["DAPR_GRPC_PORT"] = Num(sideGrpc),
            ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Logging__LogLevel__Default"] = "Warning",
            ["Results__MaxStreamsPerClient"] = "1000000", // every client of this benchmark is 127.0.0.1
        });
        // Only the orchestrator may announce a window (pub/sub scopes): its sidecar, with no app behind it.
        using var orchestratorSidecar = Start("dotnet", [sidecar, "--app-id", AppIds.Orchestrator, "--dapr-http-port", Num(orchHttp), "--dapr-grpc-port", Num(orchGrpc), "--resources-path", resources, "--log-level", "warn"], env);
        using var publisherSidecar = Start("dotnet", [sidecar, "--app-id", AppIds.Tally, "--dapr-http-port", Num(pubHttp), "--dapr-grpc-port", Num(pubGrpc), "--resources-path", resources, "--log-level", "warn"], env);
        try
        {
            using var dapr = new DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{pubGrpc}").UseHttpEndpoint($"http://127.0.0.1:{pubHttp}")
                .UseJsonSerializationOptions(FanVoteJson.Options).UseDaprApiToken(BenchSecrets.DaprApiToken).Build();
            using var orchestrator = new DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{orchGrpc}").UseHttpEndpoint($"http://127.0.0.1:{orchHttp}")
                .UseJsonSerializationOptions(FanVoteJson.Options).UseDaprApiToken(BenchSecrets.DaprApiToken).Build();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await WaitOkAsync(http, $"http://127.0.0.1:{sideHttp}/v1.0/healthz", TimeSpan.FromSeconds(90));
            await WaitOkAsync(http, $"http://127.0.0.1:{pubHttp}/v1.0/healthz", TimeSpan.FromSeconds(90));
            await WaitOkAsync(http, $"http://127.0.0.1:{orchHttp}/v1.0/healthz", TimeSpan.FromSeconds(90));
            await orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowEvents, new WindowScheduled
            {
                EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = Window, Title = "Streams benchmark",
                Candidates = ["aurora", "blaze", "comet"], OpensAt = DateTimeOffset.UtcNow, ClosesAt = DateTimeOffset.UtcNow.AddHours(1), VotesPerAccount = 10,
            }, new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.WindowScheduled });
            await WaitOkAsync(http, $"http://127.0.0.1:{appPort}/v1/windows/{Window}/results", TimeSpan.FromSeconds(30));

            Console.WriteLine($"FanVote results streams benchmark — {Environment.ProcessorCount} cores, clients on the same machine, {updates} updates per level");
            Console.WriteLine();

            // Warm-up: one stream and one update through every hop (JIT, the subscription, connection pools).
            long seq = 1;
            using (var warm = await StreamClient.OpenAsync(appPort, Window, 0))
            {
                await PublishAsync(dapr, seq);
                await WaitAsync(() => warm.LastSeq >= seq, TimeSpan.FromSeconds(30));
            }

            await Task.Delay(1000);
            var baselineMb = RssMegabytes(app.Id);
            var (previousN, previousMb) = (0, baselineMb);

            // Each stream is one socket in the app and one here: a level above the open-file limit of either process
            // cannot be run, so it is capped (and says so) rather than failing half-way.
            var fileLimit = Math.Min(OpenFileLimit(Environment.ProcessId), OpenFileLimit(app.Id));
            var most = (int)Math.Max(1, fileLimit - 1_000);
            foreach (var asked in levels)
            {
                var n = Math.Min(asked, most);
                if (n < asked)
                {
                    Console.WriteLine($"{asked:N0} streams: capped at {n:N0}: this machine allows {fileLimit:N0} open files per process (ulimit -n; the hard limit cannot be raised here), and every stream is a socket in the app and in this client");
                }

                var clients = new List<StreamClient>(n);
                var opening = Stopwatch.StartNew();
                foreach (var batch in Enumerable.Range(0, n).Chunk(200))
                {
                    clients.AddRange(await Task.WhenAll(batch.Select(i => StreamClient.OpenAsync(appPort, Window, i))));
                }

                await WaitAsync(() => clients.All(c => c.LastSeq >= seq), TimeSpan.FromSeconds(60));
                var opened = opening.Elapsed;
                var rssMb = RssMegabytes(app.Id);
                var latencies = new List<double>();
                var missed = 0;
                for (var u = 0; u < updates; u++)
                {
                    seq++;
                    var target = seq;
                    var sent = Stopwatch.GetTimestamp();
                    foreach (var c in clients)
                    {
                        c.Expect(target, sent);
                    }

                    await PublishAsync(dapr, target);
                    await WaitAsync(() => clients.All(c => c.LastSeq >= target), TimeSpan.FromSeconds(10));
                    latencies.AddRange(clients.Where(c => c.SeenAfterMs >= 0).Select(c => c.SeenAfterMs));
                    missed += clients.Count(c => c.SeenAfterMs < 0);
                    await Task.Delay(500);
                }

                latencies.Sort();
                Console.WriteLine(
                    $"{n,6:N0} streams: opened in {opened.TotalSeconds:F1} s, results app RSS {rssMb:N0} MB ({(rssMb - baselineMb) * 1024 / n:F1} KB per stream over the idle {baselineMb:N0} MB" +
                    (previousN > 0 && n > previousN ? $"; {(rssMb - previousMb) * 1024 / (n - previousN):F1} KB per stream from {previousN:N0} to {n:N0}" : "") + "); " +
                    $"update → seen on every stream p50 {Pct(latencies, 50):F0} ms, p99 {Pct(latencies, 99):F0} ms, max {latencies.LastOrDefault():F0} ms" +
                    (missed > 0 ? $"; {missed} stream-updates not seen within 10 s" : ""));
                (previousN, previousMb) = (n, rssMb);
                if (hold > 0)
                {
                    Console.WriteLine($"holding {n:N0} streams open for {hold} s: the results app is process {app.Id}");
                    await Task.Delay(TimeSpan.FromSeconds(hold));
                }

                foreach (var c in clients)
                {
                    c.Dispose();
                }

                await Task.Delay(2000);
            }

            Console.WriteLine();
            Console.WriteLine("aim (issue 18): 50,000 open streams on one results instance, update → seen on every stream p99 under 1 s, memory per stream reported");
            return 0;
        }
        finally
        {
            foreach (var p in new[] { publisherSidecar, orchestratorSidecar, app, resultsSidecar })
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                }
            }
        }
    }

    private static Task PublishAsync(DaprClient dapr, long seq) =>
        dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.TallyUpdated, new TallyUpdated
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = Window, Seq = seq, Total = seq * 3,
            Counts = new Dictionary<string, long> { ["aurora"] = seq, ["blaze"] = seq, ["comet"] = seq },
        });

    /// <summary>One SSE client on a raw socket: remembers the highest `id:` it has read and when it read the one expected.</summary>
    private sealed class StreamClient : IDisposable
    {
        private readonly Socket _socket;
        private long _lastSeq = -1;
        private long _expected = long.MaxValue;
        private long _sentAt;

        private StreamClient(Socket socket) => _socket = socket;

        public long LastSeq => Interlocked.Read(ref _lastSeq);

        public double SeenAfterMs { get; private set; } = -1;

        /// <summary>
        /// Client <paramref name="index"/> connects from 127.0.1.(1 + index / 20,000): one source address has about 28,000
        /// ephemeral ports (32768-60999), so 50,000 streams need several (all of 127/8 is loopback on Linux).
        /// </summary>
        public static async Task<StreamClient> OpenAsync(int port, string window, int index)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new IPEndPoint(new IPAddress([127, 0, 1, (byte)(1 + (index / 20_000))]), 0));
            await socket.ConnectAsync(IPAddress.Loopback, port);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /v1/windows/{window}/results/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"));
            var client = new StreamClient(socket);
            _ = Task.Run(client.ReadAsync);
            return client;
        }

        public void Expect(long seq, long sentAt)
        {
            SeenAfterMs = -1;
            Interlocked.Exchange(ref _sentAt, sentAt);
            Interlocked.Exchange(ref _expected, seq);
        }

        public void Dispose() => _socket.Dispose();

        private async Task ReadAsync()
        {
            var buffer = new byte[2048]; // a frame is about 200 bytes
            var carry = "";
            try
            {
                while (true)
                {
                    var read = await _socket.ReceiveAsync(buffer);
                    if (read == 0)
                    {
                        return;
                    }

                    var text = carry + Encoding.ASCII.GetString(buffer, 0, read);
                    var at = 0;
                    while ((at = text.IndexOf("id: ", at, StringComparison.Ordinal)) >= 0)
                    {
                        var end = text.IndexOf('\n', at);
                        if (end < 0)
                        {
                            break;
                        }

                        if (long.TryParse(text.AsSpan(at + 4, end - at - 4), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seq))
                        {
                            Interlocked.Exchange(ref _lastSeq, Math.Max(_lastSeq, seq));
                            if (seq >= Interlocked.Read(ref _expected) && SeenAfterMs < 0)
                            {
                                SeenAfterMs = Stopwatch.GetElapsedTime(Interlocked.Read(ref _sentAt)).TotalMilliseconds;
                            }
                        }

                        at = end;
                    }

                    carry = text.Length > 64 ? text[^64..] : text;
                }
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static Process Start(string file, IReadOnlyList<string> args, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine(e.Data);
            }
        };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task WaitOkAsync(HttpClient http, string url, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var r = await http.GetAsync(new Uri(url));
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{url} did not answer 2xx within {timeout.TotalSeconds:F0} s");
            }

            await Task.Delay(250);
        }
    }

    private static async Task WaitAsync(Func<bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    private static double RssMegabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>The soft "Max open files" of process <paramref name="pid"/> (/proc/PID/limits).</summary>
    private static long OpenFileLimit(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: >= 5 } && long.TryParse(fields[3], CultureInfo.InvariantCulture, out var soft) ? soft : long.MaxValue;
    }

    private static double Pct(List<double> sorted, int p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p / 100.0))];

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
