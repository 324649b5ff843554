using System.Security.Cryptography;
using Npgsql;

namespace FanVote.Testing;

/// <summary>
/// The points ledger set up as `./fanvote up` sets it up: the migrate step (`FanVote.Rewards migrate`) runs with the
/// database's admin connection, creates the schema and a restricted role that may only insert into and read the
/// ledger, and rewards connects as that role (<see cref="ConnectionString"/>, FANVOTE_REWARDS_PG_CONNECTION). Roles
/// are cluster-wide, so each database gets a role of its own, dropped on dispose.
/// </summary>
public sealed class RewardsLedgerRole : IAsyncDisposable
{
    private readonly string _admin;

    private RewardsLedgerRole(string name, string connectionString, string admin)
    {
        Name = name;
        ConnectionString = connectionString;
        _admin = admin;
    }

    /// <summary>The role's name (fanvote_rewards_ and the end of the database's name).</summary>
    public string Name { get; }

    /// <summary>What rewards connects with: the restricted role and its random password, on <c>db</c>.</summary>
    public string ConnectionString { get; }

    /// <summary>Runs the migrate step against <paramref name="db"/> and returns the role it created.</summary>
    public static async Task<RewardsLedgerRole> MigrateAsync(PostgresDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var name = "fanvote_rewards_" + db.Name.ToLowerInvariant().Replace('-', '_')[^12..];
        var connection = new NpgsqlConnectionStringBuilder(db.ConnectionString)
        {
            Username = name,
            Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
        }.ConnectionString;
        await using var migrate = ManagedProcess.Dotnet("rewards-migrate", TestEnvironment.ProjectDll("FanVote.Rewards"), ["migrate"], new Dictionary<string, string?>
        {
            ["FANVOTE_PG_ADMIN_CONNECTION"] = db.ConnectionString,
            ["FANVOTE_REWARDS_PG_CONNECTION"] = connection,
        }).Start();
        var exit = await migrate.WaitForExitAsync(TimeSpan.FromSeconds(120));
        await Task.Delay(100); // let the output readers drain
        if (exit != 0)
        {
            throw new InvalidOperationException($"FanVote.Rewards migrate exited with {exit}:\n{migrate.Output}");
        }

        return new RewardsLedgerRole(name, connection, new NpgsqlConnectionStringBuilder(db.ConnectionString) { Database = "postgres" }.ConnectionString);
    }

    /// <summary>Drops the role; call after the database is dropped (the role owns nothing, but holds grants in it).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var admin = NpgsqlDataSource.Create(_admin);
            await using var drop = admin.CreateCommand($"DROP ROLE IF EXISTS \"{Name}\"");
            await drop.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // The server may be gone already (a test that killed it and a rig disposed after it): the role goes with it.
        }
    }
}
