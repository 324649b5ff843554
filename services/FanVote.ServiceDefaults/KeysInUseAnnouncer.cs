using Dapr;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanVote.ServiceDefaults;

/// <summary>Where an instance's <see cref="KeysInUse"/> goes: by default `window-reports` (the orchestrator logs them; it logs its own directly).</summary>
public interface IKeysInUseSink
{
    Task ReportAsync(KeysInUse keys, CancellationToken cancellationToken);
}

/// <summary>Publishes <see cref="KeysInUse"/> on `window-reports` (CloudEvent type <see cref="EventTypes.KeysInUse"/>).</summary>
public sealed class PublishedKeysInUse(DaprClient dapr) : IKeysInUseSink
{
    public Task ReportAsync(KeysInUse keys, CancellationToken cancellationToken) =>
        dapr.PublishTypedAsync(Topics.WindowReports, EventTypes.KeysInUse, keys, cancellationToken);
}

/// <summary>
/// Once the app has started (its keys loaded), tells the action log which keys this instance runs with: each key's
/// setting and fingerprint (<see cref="KeySet.Fingerprint"/>), never the key. Sent again every 2 s until it goes through
/// (the sidecar may start later than the app). An app with no key (fraud, results) sends nothing.
/// </summary>
public sealed class KeysInUseAnnouncer(KeySet keys, IKeysInUseSink sink, KeysReported reported, FanVoteAppId app, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<KeysInUseAnnouncer> log)
    : BackgroundService
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(stoppingToken);
            }

            var loaded = keys.Fingerprints();
            if (loaded.Count == 0)
            {
                reported.Done();
                return;
            }

            var e = new KeysInUse
            {
                EventId = Guid.NewGuid(), OccurredAt = time.GetUtcNow(), App = app.Value, Instance = $"{Environment.MachineName}/{Environment.ProcessId}",
                Keys = [.. loaded.Select(k => new KeyInUse(k.Name, k.Fingerprint, k.Development))],
            };
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await sink.ReportAsync(e, stoppingToken);
                    reported.Done();
                    return;
                }
                catch (Exception ex) when (ex is DaprException or RpcException or HttpRequestException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
                {
                    if (attempt == 1)
                    {
                        ServiceLog.KeysNotYetReported(log, ex.Message);
                    }

                    await Task.Delay(RetryEvery, time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping before it went through: the next start reports its keys.
        }
    }
}

/// <summary>Whether this instance's keys were reported; as a readiness check (a host that adds it), ready only once they are.</summary>
public sealed class KeysReported : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Done() => _done.TrySetResult();

    public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_done.Task.IsCompleted
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("the keys in use are not in the action log yet"));
}

public static class KeysInUseExtensions
{
    /// <summary>Ready (/healthz) only once this instance's keys are reported: the orchestrator, whose report is an append to its own log.</summary>
    public static WebApplicationBuilder AddKeysReportedReadiness(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            "keys-reported", sp => sp.GetRequiredService<KeysReported>(), failureStatus: null, tags: [FanVoteDefaults.ReadyTag]));
        return builder;
    }

    /// <summary>Every app reports its keys (<see cref="KeysInUseAnnouncer"/>); a host may register its own <see cref="IKeysInUseSink"/> first.</summary>
    internal static void AddKeysInUse(this IServiceCollection services)
    {
        services.AddSingleton<KeysReported>();
        services.AddSingleton<PublishedKeysInUse>();
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton<IKeysInUseSink>(services, sp => sp.GetRequiredService<PublishedKeysInUse>());
        services.AddHostedService<KeysInUseAnnouncer>();
    }
}
