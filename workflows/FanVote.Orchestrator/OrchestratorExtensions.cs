using FanVote.Contracts;
using FanVote.Orchestrator.Actors;
using FanVote.Orchestrator.Adapters;

namespace FanVote.Orchestrator;

public static class OrchestratorExtensions
{
    public static WebApplicationBuilder AddOrchestrator(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<OrchestratorOptions>()
            .BindConfiguration("Orchestrator")
            .Configure<IConfiguration>((o, c) => o.OperatorKey = c["FANVOTE_OPERATOR_KEY"] is { Length: > 0 } k ? k : o.OperatorKey)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IWindowEventPublisher, DaprWindowEventPublisher>();
        builder.Services.AddActors(o =>
        {
            o.Actors.RegisterActor<WindowActor>();
            o.JsonSerializerOptions = FanVoteJson.Options;
            o.ActorIdleTimeout = TimeSpan.FromMinutes(30);
        });
        return builder;
    }
}
