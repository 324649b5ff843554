namespace FanVote.Sidecar.State;

// STUB: replaced by the state implementation (HTTP state API, /v1.0/state/...).
public static class StateServices
{
    public static IServiceCollection AddSidecarState(this IServiceCollection services) => services;

    public static WebApplication MapStateHttpApi(this WebApplication app) => app;
}
