using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Tally.Adapters;
using FanVote.Tally.Core;

namespace FanVote.Tally;

/// <summary>
/// `window-events` WindowScheduled (only the orchestrator publishes it; only the sidecar may call the route): tally
/// learns each window's bounds and candidates, which every vote is screened against.
/// </summary>
public static class WindowSubscriptions
{
    public static WebApplication MapWindowSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-events/scheduled", async (WindowScheduled e, PostgresWindows windows, CancellationToken ct) =>
        {
            if (!Ids.IsValid(e.WindowId) || e.Candidates.Count == 0 || e.Candidates.Any(c => !Ids.IsValid(c)) || e.ClosesAt <= e.OpensAt)
            {
                return Results.Ok(); // not a window the orchestrator makes (it validates every definition); nothing to learn
            }

            await windows.SaveAsync(new TallyWindow(e.WindowId, e.OpensAt, e.ClosesAt, e.Candidates), ct);
            return Results.Ok();
        }).ForWindowEvent(EventTypes.WindowScheduled);
        app.MapIgnoredWindowEvents();
        return app;
    }
}
