using Dapr.Workflow;
using FanVote.ActionLog;
using FanVote.Contracts;
using FanVote.Orchestrator.ActionLog;
using FanVote.Orchestrator.Adapters;
using FanVote.Orchestrator.Lifecycle;
using FanVote.Orchestrator.Watch;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using FanVote.Workflows;
using Microsoft.Extensions.Options;

namespace FanVote.Orchestrator;

public static class OrchestratorExtensions
{
    /// <summary>
    /// The lifecycle's waits are in "Orchestrator:Lifecycle" (<see cref="LifecycleTimings"/>, e.g.
    /// Orchestrator__Lifecycle__FlagGrace=00:00:30); a window keeps the ones in force when it was created. Windows run as
    /// Dapr workflows: so are fans' data requests, whose waits are in "Orchestrator:DataRights" (<see cref="DataRightsTimings"/>).
    /// The worker pulls its work from the sidecar's gRPC port (DAPR_GRPC_PORT, DAPR_API_TOKEN).
    /// </summary>
    public static WebApplicationBuilder AddOrchestrator(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<LifecycleTimings>().BindConfiguration("Orchestrator:Lifecycle");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<LifecycleTimings>>().Value);
        builder.AddOperatorKey();
        builder.AddFanSessions(); // a fan's data requests (GET /v1/me/data, DELETE /v1/me)
        builder.Services.AddOptions<DataRightsTimings>().BindConfiguration("Orchestrator:DataRights");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<DataRightsTimings>>().Value);
        builder.Services.AddSingleton<AuditorKey>();
        builder.Services.ResolveOnStart<AuditorKey>();
        builder.Services.AddSingleton<IWindowAnnouncements, DaprWindowAnnouncements>();
        builder.Services.AddSingleton<IWindowRequests, DaprWindowRequests>();
        builder.Services.AddSingleton<WindowLocks>();
        builder.Services.AddSingleton<WindowWatchBook>();
        builder.Services.AddSingleton(sp => new ActionLogKey(sp.Key(builder.Configuration, ActionLogKey.Setting, "action-log")));
        builder.Services.ResolveOnStart<ActionLogKey>();
        builder.Services.AddSingleton(sp =>
        {
            var anchors = builder.Configuration[ActionLogKey.AnchorsSetting] ?? "";
            if (anchors.Length == 0)
            {
                if (!builder.Environment.IsDevelopment())
                {
                    throw new KeyConfigurationException($"set {ActionLogKey.AnchorsSetting} to the file where the orchestrator appends the action log's heads (outside the state store): without anchors a cut log verifies");
                }

                OrchestratorLog.NoActionAnchors(sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OrchestratorExtensions)), ActionLogKey.AnchorsSetting);
            }

            return new ActionLogOptions(anchors);
        });
        builder.Services.ResolveOnStart<ActionLogOptions>();
        builder.Services.AddSingleton<DaprActionLog>();
        builder.Services.AddSingleton<KeysInUseLog>();
        builder.Services.AddSingleton<IKeysInUseSink>(sp => sp.GetRequiredService<KeysInUseLog>()); // its own keys: straight into its log
        builder.AddKeysReportedReadiness(); // ready once they are there: nothing else is appended before them

        // Workflows and activities of this assembly are registered by Dapr.Workflow's source generator.
        builder.Services.AddDaprWorkflowBuilder(_ => { }, (_, _) => { }).WithJsonSerializer(FanVoteJson.Options);
        return builder;
    }
}
