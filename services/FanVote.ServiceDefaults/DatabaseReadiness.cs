using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FanVote.ServiceDefaults;

/// <summary>
/// For the services that own a database of their own (tally's vote ledger, rewards' points ledger): wait for it at
/// start-up, and report ready only while it answers.
/// </summary>
public static class DatabaseReadiness
{
    /// <summary>
    /// Runs <paramref name="initialize"/> (create the schema, load state) until the database answers: once a second,
    /// for up to a minute (PostgreSQL may still be starting beside the service); then the last error stops start-up.
    /// </summary>
    public static async Task InitializeWithRetryAsync(Func<CancellationToken, Task> initialize, Action<DbException> waiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(initialize);
        ArgumentNullException.ThrowIfNull(waiting);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await initialize(cancellationToken);
                return;
            }
            catch (DbException e) when (attempt < 60)
            {
                waiting(e);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    /// <summary>A readiness check (tag <see cref="FanVoteDefaults.ReadyTag"/>) that runs <paramref name="probeSql"/> on the service's database.</summary>
    public static IHealthChecksBuilder AddDatabaseProbe(this IHealthChecksBuilder checks, string name, Func<IServiceProvider, DbDataSource> dataSource, string probeSql, string what)
    {
        ArgumentNullException.ThrowIfNull(checks);
        return checks.Add(new HealthCheckRegistration(name, sp => new DatabaseProbe(dataSource(sp), probeSql, what), failureStatus: null, tags: [FanVoteDefaults.ReadyTag]));
    }

    private sealed class DatabaseProbe(DbDataSource db, string probeSql, string what) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var cmd = db.CreateCommand(probeSql);
                await cmd.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (DbException e)
            {
                return HealthCheckResult.Unhealthy($"{what} (PostgreSQL) is not reachable or not initialised", e);
            }
        }
    }
}
