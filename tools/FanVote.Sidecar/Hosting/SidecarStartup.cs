using FanVote.Sidecar.Configuration;

namespace FanVote.Sidecar.Hosting;

/// <summary>
/// daprd's start-up order once the API servers listen: outbound ready → wait for the app port →
/// participants (actors: /dapr/config; pub/sub: /dapr/subscribe and consumers) → ready.
/// </summary>
public sealed partial class SidecarStartup(
    SidecarOptions options,
    AppChannel channel,
    SidecarReadiness readiness,
    IEnumerable<IAppStartupParticipant> participants,
    IHostApplicationLifetime lifetime,
    ILogger<SidecarStartup> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }

        readiness.MarkOutboundReady();
        var appPort = options.AppPort?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
        SidecarLog.Listening(log, options.AppId, options.DaprHttpPort, options.DaprGrpcPort, appPort);
        if (channel.HasApp)
        {
            await channel.WaitForAppPortAsync(stoppingToken);
            var address = options.AppBaseUri.ToString();
            SidecarLog.AppReachable(log, options.AppId, address);
        }

        foreach (var p in participants.OrderBy(p => p.Order))
        {
            try
            {
                await p.OnAppReadyAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                SidecarLog.StartupStepFailed(log, e, p.Name);
                throw;
            }
        }

        readiness.MarkReady();
        SidecarLog.Ready(log, options.AppId);
    }
}
