namespace FanVote.Sidecar.Actors;

// STUB: replaced by the actor implementation (/v1.0/actors/..., placement, reminders, timers).
public static class ActorServices
{
    public static IServiceCollection AddSidecarActors(this IServiceCollection services) => services;

    public static WebApplication MapActorsHttpApi(this WebApplication app) => app;
}
