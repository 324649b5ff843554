using Npgsql;

namespace FanVote.Testing;

/// <summary>A fresh database on the test PostgreSQL, dropped on dispose: each test class gets its own ledger.</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _admin;

    private PostgresDatabase(string name, string connectionString, string admin)
    {
        Name = name;
        ConnectionString = connectionString;
        _admin = admin;
    }

    public string Name { get; }

    /// <summary>Npgsql connection string to the new database.</summary>
    public string ConnectionString { get; }

    /// <summary>On the shared test server, or with <paramref name="adminConnectionString"/> on another (a <see cref="PostgresServer"/>).</summary>
    public static async Task<PostgresDatabase> CreateAsync(string prefix = "fv", string? adminConnectionString = null)
    {
        var server = adminConnectionString ?? TestEnvironment.Postgres;
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 60)];
        await using (var admin = NpgsqlDataSource.Create(server))
        await using (var cmd = admin.CreateCommand($"CREATE DATABASE \"{name}\""))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        var cs = new NpgsqlConnectionStringBuilder(server) { Database = name, Pooling = true }.ConnectionString;
        return new PostgresDatabase(name, cs, server);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = NpgsqlDataSource.Create(_admin);
        await using var cmd = admin.CreateCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
        await cmd.ExecuteNonQueryAsync();
    }
}
