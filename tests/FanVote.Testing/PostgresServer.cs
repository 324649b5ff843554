using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace FanVote.Testing;

/// <summary>
/// A private PostgreSQL server (initdb + postgres on a free loopback port, its own folder) for a test that kills the
/// database: <see cref="KillAsync"/> SIGKILLs the postmaster and every backend at once (a crash of the machine or an OOM
/// kill), <see cref="StartAgainAsync"/> starts it again on the same port and data folder, where it recovers from its WAL.
/// It runs as `./fanvote up` runs PostgreSQL: <c>synchronous_commit=on</c>, <c>fsync=on</c>, so a commit that returned is
/// on disk. Other tests keep using the shared server (<see cref="TestEnvironment.Postgres"/>). Takes a few seconds to
/// create (initdb). Under root the server runs as the <c>postgres</c> user, as PostgreSQL requires.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string PgBinDefault = "/usr/lib/postgresql/15/bin";
    private static readonly bool IsRoot = Environment.UserName == "root";
    private readonly string _dir;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private PostgresServer(string dir, int port)
    {
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Npgsql connection string of the superuser to the `postgres` database (trust on loopback).</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database=postgres;Pooling=false";

    /// <summary>The server's last lines of output (start-up, recovery), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    private static string PgBin => Environment.GetEnvironmentVariable("FANVOTE_PG_BIN") is { Length: > 0 } b ? b : PgBinDefault;

    private string DataDir => Path.Combine(_dir, "data");

    public static async Task<PostgresServer> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("fv-pg-").FullName;
        var server = new PostgresServer(dir, Ports.Free());
        try
        {
            if (IsRoot)
            {
                await RunAsync("chown", ["postgres:postgres", dir]);
            }

            await RunAsync(Path.Combine(PgBin, "initdb"), ["-D", server.DataDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"], asPostgres: true);
            await server.LaunchAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh database on this server, dropped on dispose.</summary>
    public Task<PostgresDatabase> CreateDatabaseAsync(string prefix = "fv") => PostgresDatabase.CreateAsync(prefix, AdminConnectionString);

    /// <summary>SIGKILL of the postmaster and all its backends: no shutdown checkpoint; only committed transactions survive.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            // .NET stops the parent first (SIGSTOP), so no new backend is forked while the tree is killed.
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>Starts it again on the same port and data folder (killing it first if it runs); returns once it accepts queries.</summary>
    public async Task StartAgainAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _process = null;
        await LaunchAsync();
    }

    private async Task LaunchAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var attempt = 0;
        while (true)
        {
            attempt++;
            var args = new List<string>
            {
                "-D", DataDir, "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", _dir,
                "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "shared_buffers=64MB",
                "-c", "synchronous_commit=on", "-c", "fsync=on",
            };
            var (file, argv) = AsPostgres(Path.Combine(PgBin, "postgres"), args);
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in argv)
            {
                psi.ArgumentList.Add(a);
            }

            var p = new Process { StartInfo = psi };
            p.OutputDataReceived += (_, e) => Append(e.Data);
            p.ErrorDataReceived += (_, e) => Append(e.Data);
            p.Start();
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            _process = p;
            while (!p.HasExited && DateTime.UtcNow < deadline)
            {
                if (await AcceptsQueriesAsync())
                {
                    return;
                }

                await Task.Delay(100);
            }

            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"PostgreSQL on {Port} did not accept queries in time:\n{Output}");
            }

            // A backend of the killed server that has not noticed its postmaster's death yet still holds the shared
            // memory ("pre-existing shared memory block is still in use"): it exits within moments, so try again.
            p.Dispose();
            _process = null;
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"PostgreSQL on {Port} exited at start-up ({attempt} attempts):\n{Output}");
            }

            await Task.Delay(250);
        }
    }

    private async Task<bool> AcceptsQueriesAsync()
    {
        try
        {
            await using var conn = new NpgsqlConnection(AdminConnectionString + ";Timeout=3");
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync();
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return false;
        }
    }

    private static (string File, List<string> Args) AsPostgres(string file, List<string> args) =>
        IsRoot ? ("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", file, .. args]) : (file, args);

    private static async Task RunAsync(string file, List<string> args, bool asPostgres = false)
    {
        var (f, a) = asPostgres ? AsPostgres(file, args) : (file, args);
        var psi = new ProcessStartInfo(f) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var x in a)
        {
            psi.ArgumentList.Add(x);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {p.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 500 && _output.TryDequeue(out _))
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await KillAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
