using Dapr;
using Dapr.AspNetCore;
using FanVote.Contracts;
using Microsoft.AspNetCore.Builder;

namespace FanVote.ServiceDefaults;

/// <summary>
/// `window-events`, `window-requests`, `window-reports` and `reward-requests` carry several event types; subscribers
/// route each to its own endpoint by CloudEvent type.
/// </summary>
public static class WindowEventRoutes
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Priorities = new(StringComparer.Ordinal);

    /// <summary>Subscribes this endpoint to the `window-events` messages whose CloudEvent type is <paramref name="eventType"/>.</summary>
    public static RouteHandlerBuilder ForWindowEvent(this RouteHandlerBuilder endpoint, string eventType) =>
        endpoint.ForEventType(Topics.WindowEvents, eventType);

    /// <summary>Subscribes this endpoint to the messages of <paramref name="topic"/> whose CloudEvent type is <paramref name="eventType"/>.</summary>
    public static RouteHandlerBuilder ForEventType(this RouteHandlerBuilder endpoint, string topic, string eventType) =>
        endpoint.WithTopic(new TopicOptions
        {
            PubsubName = ComponentNames.VoteBus,
            Name = topic,
            Match = $"event.type == \"{eventType}\"",
            // Dapr wants each rule of a topic to have its own priority; the rules match disjoint types, so any order works.
            Priority = Priorities.AddOrUpdate(topic, 1, (_, p) => p + 1),
        });

    /// <summary>The default route of `window-events`: every other type is acknowledged and ignored.</summary>
    public static WebApplication MapIgnoredWindowEvents(this WebApplication app) => app.MapIgnoredEvents(Topics.WindowEvents);

    /// <summary>The default route of <paramref name="topic"/>: types this app has no route for are acknowledged and ignored.</summary>
    public static WebApplication MapIgnoredEvents(this WebApplication app, string topic)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/" + topic, () => Microsoft.AspNetCore.Http.TypedResults.Ok()).WithTopic(ComponentNames.VoteBus, topic);
        return app;
    }
}
