using Dapr.Actors;
using Dapr.Actors.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Orchestrator.Actors;
using FanVote.ServiceDefaults;

namespace FanVote.Orchestrator;

/// <summary>
/// `window-reports` (routed on the CloudEvent type): each answer goes to its window's actor, which records it and
/// advances. A failed hand-over answers 500, so the sidecar redelivers; recording the same report twice changes nothing.
/// </summary>
public static class WindowReportSubscriptions
{
    public static WebApplication MapWindowReportSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-reports/accepted", (AcceptedVotesReported e, IActorProxyFactory actors) =>
            Deliver(actors, e.WindowId, nameof(IWindowActor.ReportAcceptedAsync), e)).ForEventType(Topics.WindowReports, EventTypes.AcceptedVotesReported);
        app.MapPost("/window-reports/persisted", (PersistedVotesReported e, IActorProxyFactory actors) =>
            Deliver(actors, e.WindowId, nameof(IWindowActor.ReportPersistedAsync), e)).ForEventType(Topics.WindowReports, EventTypes.PersistedVotesReported);
        app.MapPost("/window-reports/audited", (WindowAudited e, IActorProxyFactory actors) =>
            Deliver(actors, e.WindowId, nameof(IWindowActor.ReportAuditedAsync), e)).ForEventType(Topics.WindowReports, EventTypes.WindowAudited);
        app.MapPost("/window-reports/paid", (RewardsPaid e, IActorProxyFactory actors) =>
            Deliver(actors, e.WindowId, nameof(IWindowActor.ReportPaidAsync), e)).ForEventType(Topics.WindowReports, EventTypes.RewardsPaid);
        app.MapIgnoredEvents(Topics.WindowReports);
        return app;
    }

    private static async Task<IResult> Deliver<T>(IActorProxyFactory actors, string windowId, string method, T report)
    {
        var proxy = actors.Create(new ActorId(windowId), nameof(WindowActor), new ActorProxyOptions { JsonSerializerOptions = FanVoteJson.Options });
        await proxy.InvokeMethodAsync(method, report);
        return TypedResults.Ok();
    }
}
