using Dapr;
using Dapr.AspNetCore;
using FanVote.Contracts;
using Microsoft.AspNetCore.Builder;

namespace FanVote.ServiceDefaults;

/// <summary>`window-events` carries several event types; subscribers route each to its own endpoint by CloudEvent type.</summary>
public static class WindowEventRoutes
{
    /// <summary>Subscribes this endpoint to the `window-events` messages whose CloudEvent type is <paramref name="eventType"/>.</summary>
    public static RouteHandlerBuilder ForWindowEvent(this RouteHandlerBuilder endpoint, string eventType) =>
        endpoint.WithTopic(new TopicOptions
        {
            PubsubName = ComponentNames.VoteBus,
            Name = Topics.WindowEvents,
            Match = $"event.type == \"{eventType}\"",
            Priority = 1,
        });

    /// <summary>The default route of `window-events`: every other type is acknowledged and ignored.</summary>
    public static WebApplication MapIgnoredWindowEvents(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-events", () => Microsoft.AspNetCore.Http.TypedResults.Ok()).WithTopic(ComponentNames.VoteBus, Topics.WindowEvents);
        return app;
    }
}
