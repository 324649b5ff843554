using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace FanVote.Testing;

/// <summary>
/// A private redis-server on a free loopback port, for tests whose topic or key names are fixed (the real
/// `votes` topic, say) and must not meet other tests' data on the shared Redis. Starts in milliseconds.
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

    public static async Task<RedisServer> StartAsync()
    {
        var port = Ports.Free();
        var dir = Directory.CreateTempSubdirectory("fv-redis-").FullName;
        return new RedisServer(await LaunchAsync(port, dir), dir, port);
    }

    /// <summary>Stops the server abruptly (the broker "goes down"); data is lost, as with a crash without persistence.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts it again on the same port, so clients reconnect to the same address.</summary>
    public async Task StartAgainAsync()
    {
        await StopAsync();
        _process.Dispose();
        _process = await LaunchAsync(Port, _dir);
    }

    private static async Task<Process> LaunchAsync(int port, string dir)
    {
        var psi = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir },
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
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync("127.0.0.1", port);
                return process;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        process.Kill();
        throw new TimeoutException($"redis-server did not listen on {port}");
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
