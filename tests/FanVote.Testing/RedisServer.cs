using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FanVote.Testing;

/// <summary>
/// A private redis-server on a free loopback port, for tests whose topic or key names are fixed (the real
/// `votes` topic, say) and must not meet other tests' data on the shared Redis. Starts in milliseconds.
/// It runs as `./fanvote up` runs Redis: append-only file with <c>appendfsync always</c> in its own folder, so what it
/// acknowledged survives <see cref="KillAsync"/> and is there again after <see cref="StartAgainAsync"/>.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process _process;
    private readonly string _dir;

    private RedisServer(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>host:port, the form FANVOTE_REDIS_HOST and redisHost take.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>The server's folder: the append-only files (appendonlydir/) and its log (redis.log).</summary>
    public string DataDirectory => _dir;

    /// <summary>What the server logged (start-up, AOF loading), for failure messages.</summary>
    public string Log => File.Exists(Path.Combine(_dir, "redis.log")) ? File.ReadAllText(Path.Combine(_dir, "redis.log")) : "";

    /// <summary>True while the server process runs.</summary>
    public bool IsRunning => !_process.HasExited;

    public static async Task<RedisServer> StartAsync()
    {
        var port = Ports.Free();
        var dir = Directory.CreateTempSubdirectory("fv-redis-").FullName;
        return new RedisServer(await LaunchAsync(port, dir), dir, port);
    }

    /// <summary>SIGKILL (the broker "goes down" as in a crash): nothing is flushed, only what is in the append-only file survives.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// SIGSTOP: the server keeps its connections open but answers nothing, as a hung host or a network partition looks
    /// to its clients (they time out instead of seeing the connection close). <see cref="ResumeAsync"/> undoes it.
    /// </summary>
    public Task PauseAsync() => Signals.SendAsync(_process.Id, "STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>: it answers again, on the same connections.</summary>
    public Task ResumeAsync() => Signals.SendAsync(_process.Id, "CONT");

    /// <summary>The same as <see cref="KillAsync"/>.</summary>
    public Task StopAsync() => KillAsync();

    /// <summary>
    /// Starts it again on the same port and folder (after <see cref="KillAsync"/>, or kills it first), so clients reconnect
    /// to the same address and find what it acknowledged; returns once it has loaded its append-only file and answers PING.
    /// </summary>
    public async Task StartAgainAsync()
    {
        await KillAsync();
        _process.Dispose();
        _process = await LaunchAsync(Port, _dir);
    }

    private static async Task<Process> LaunchAsync(int port, string dir)
    {
        var psi = new ProcessStartInfo("redis-server")
        {
            ArgumentList =
            {
                "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir, "--logfile", Path.Combine(dir, "redis.log"),
                "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed; run the tests with ./fanvote test, which installs it", e);
        }

        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Listening is not enough: while it loads the append-only file Redis answers -LOADING to every command.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var seen = "nothing";
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            seen = await PingAsync(port);
            if (seen == "+PONG")
            {
                return process;
            }

            await Task.Delay(20);
        }

        var log = File.Exists(Path.Combine(dir, "redis.log")) ? File.ReadAllText(Path.Combine(dir, "redis.log")) : "";
        if (!process.HasExited)
        {
            process.Kill();
        }

        throw new TimeoutException($"redis-server on {port} did not answer PING (last answer: {seen}); its log:\n{log}");
    }

    private static async Task<string> PingAsync(int port)
    {
        try
        {
            using var c = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await c.ConnectAsync("127.0.0.1", port, cts.Token);
            var stream = c.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
            var buffer = new byte[256];
            var n = await stream.ReadAsync(buffer, cts.Token);
            return Encoding.ASCII.GetString(buffer, 0, n).TrimEnd();
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return e.GetType().Name;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
