using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace FanVote.Testing;

/// <summary>
/// A child process (sidecar, test app) with its output captured, killable with SIGKILL and restartable with
/// the same arguments. Dispose kills it.
/// </summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    private readonly string _fileName;
    private readonly IReadOnlyList<string> _args;
    private readonly IReadOnlyDictionary<string, string?> _env;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public ManagedProcess(string name, string fileName, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? env = null)
    {
        Name = name;
        _fileName = fileName;
        _args = args;
        _env = env ?? new Dictionary<string, string?>();
    }

    public string Name { get; }

    public bool HasExited => _process is null || _process.HasExited;

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public string Output => string.Join('\n', _output);

    /// <summary>Runs `dotnet DLL args` (the usual way tests start a built project).</summary>
    public static ManagedProcess Dotnet(string name, string dll, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? env = null) =>
        new(name, "dotnet", [dll, .. args], env);

    public ManagedProcess Start()
    {
        var psi = new ProcessStartInfo(_fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in _args)
        {
            psi.ArgumentList.Add(a);
        }

        // Children must not inherit the test host's Dapr settings by accident.
        foreach (var k in new[] { "DAPR_API_TOKEN", "APP_API_TOKEN", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT", "DAPR_HTTP_ENDPOINT", "DAPR_GRPC_ENDPOINT", "ASPNETCORE_URLS" })
        {
            psi.Environment.Remove(k);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in _env)
        {
            if (v is null)
            {
                psi.Environment.Remove(k);
            }
            else
            {
                psi.Environment[k] = v;
            }
        }

        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => Append(e.Data);
        p.ErrorDataReceived += (_, e) => Append(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _process = p;
        return this;
    }

    /// <summary>SIGKILL, as a crash would: no graceful shutdown, nothing flushed.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>SIGSTOP: the process keeps its sockets open and answers nothing, as a hung app looks to its callers.</summary>
    public Task PauseAsync() => Signals.SendAsync(_process?.Id ?? throw new InvalidOperationException($"{Name} was not started"), "STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => Signals.SendAsync(_process?.Id ?? throw new InvalidOperationException($"{Name} was not started"), "CONT");

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process!.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async Task RestartAsync()
    {
        await KillAsync();
        Start();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 2000 && _output.TryDequeue(out _))
        {
        }
    }
}
