using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;

namespace FanVote.Ingress;

/// <summary>`window-events`: WindowScheduled (routed on the CloudEvent type) gives ingress the schedule it enforces.</summary>
public static class WindowSubscriptions
{
    public static WebApplication MapWindowSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-events/scheduled", async (WindowScheduled e, WindowBook book, RedisWindowStore store, ILogger<WindowBook> log) =>
        {
            var schedule = new WindowSchedule(e.WindowId, e.Candidates, e.OpensAt, e.ClosesAt, e.VotesPerAccount);
            await store.SaveAsync(schedule);
            book.Upsert(schedule);
            IngressLog.WindowKnown(log, e.WindowId, e.OpensAt, e.ClosesAt);
            return TypedResults.Ok();
        }).ForWindowEvent(EventTypes.WindowScheduled);
        app.MapIgnoredWindowEvents();
        return app;
    }
}

/// <summary>Loads the persisted schedules before the app takes traffic.</summary>
public sealed class WindowsStartup(RedisWindowStore store, WindowBook book, ILogger<WindowsStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var all = await store.LoadAsync();
        foreach (var w in all)
        {
            book.Upsert(w);
        }

        IngressLog.WindowsLoaded(log, all.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
