using Dapr.Workflow;
using FanVote.Contracts;
using FanVote.Orchestrator.Adapters;
using FanVote.Orchestrator.Lifecycle;
using FanVote.Orchestrator.Watch;
using FanVote.ServiceDefaults.Auth;
using FanVote.Workflows;
using Microsoft.Extensions.Options;

namespace FanVote.Orchestrator;

public static class OrchestratorExtensions
{
    /// <summary>
    /// The lifecycle's waits are in "Orchestrator:Lifecycle" (<see cref="LifecycleTimings"/>, e.g.
    /// Orchestrator__Lifecycle__FlagGrace=00:00:30); a window keeps the ones in force when it was created. Windows run as
    /// Dapr workflows: the worker pulls its work from the sidecar's gRPC port (DAPR_GRPC_PORT, DAPR_API_TOKEN).
    /// </summary>
    public static WebApplicationBuilder AddOrchestrator(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<LifecycleTimings>().BindConfiguration("Orchestrator:Lifecycle");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<LifecycleTimings>>().Value);
        builder.AddOperatorKey();
        builder.Services.AddSingleton<AuditorKey>();
        builder.Services.ResolveOnStart<AuditorKey>();
        builder.Services.AddSingleton<IWindowAnnouncements, DaprWindowAnnouncements>();
        builder.Services.AddSingleton<IWindowRequests, DaprWindowRequests>();
        builder.Services.AddSingleton<WindowLocks>();
        builder.Services.AddSingleton<WindowWatchBook>();

        // Workflows and activities of this assembly are registered by Dapr.Workflow's source generator.
        builder.Services.AddDaprWorkflowBuilder(_ => { }, (_, _) => { }).WithJsonSerializer(FanVoteJson.Options);
        return builder;
    }
}
