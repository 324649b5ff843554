namespace FanVote.Sidecar.PubSub;

// STUB: replaced by the pub/sub implementation (subscriptions, delivery, /v1.0/publish/...).
public static class PubSubServices
{
    public static IServiceCollection AddSidecarPubSub(this IServiceCollection services) => services;

    public static WebApplication MapPubSubHttpApi(this WebApplication app) => app;
}
