using FanVote.Contracts;
using FanVote.Orchestrator.Actors;
using FanVote.Orchestrator.Adapters;
using FanVote.ServiceDefaults.Auth;
using FanVote.Workflows;
using Microsoft.Extensions.Options;

namespace FanVote.Orchestrator;

public static class OrchestratorExtensions
{
    public static WebApplicationBuilder AddOrchestrator(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<OrchestratorOptions>()
            .BindConfiguration("Orchestrator")
            .ValidateDataAnnotations()
            .Validate(o => o.Heartbeat >= TimeSpan.FromMilliseconds(500), "Orchestrator:Heartbeat must be at least 500 ms.")
            .ValidateOnStart();
        builder.Services.AddOptions<LifecycleTimings>().BindConfiguration("Orchestrator:Lifecycle");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<LifecycleTimings>>().Value);
        builder.AddOperatorKey();
        builder.Services.AddSingleton<AuditorKey>();
        builder.Services.ResolveOnStart<AuditorKey>();
        builder.Services.AddSingleton<IWindowAnnouncements, DaprWindowAnnouncements>();
        builder.Services.AddSingleton<IWindowRequests, DaprWindowRequests>();
        builder.Services.AddSingleton<OpenWindowActivity>();
        builder.Services.AddSingleton<CloseWindowActivity>();
        builder.Services.AddSingleton<AwaitPersistenceActivity>();
        builder.Services.AddSingleton<AuditWindowActivity>();
        builder.Services.AddSingleton<PayRewardsActivity>();
        builder.Services.AddSingleton<CompleteWindowActivity>();
        builder.Services.AddSingleton<WindowWorkflow>();
        builder.Services.AddActors(o =>
        {
            o.Actors.RegisterActor<WindowActor>();
            o.JsonSerializerOptions = FanVoteJson.Options;
            o.ActorIdleTimeout = TimeSpan.FromMinutes(30);
        });
        return builder;
    }
}
