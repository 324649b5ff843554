using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Results.Core;
using FanVote.Results.Streaming;

namespace FanVote.Results;

/// <summary>
/// `tally-updated` snapshots (only tally publishes them) and the `WindowScheduled` facts of `window-events` (only the
/// orchestrator), routed on the CloudEvent type; only the sidecar may call these routes.
/// </summary>
public static class ResultsSubscriptions
{
    public static WebApplication MapResultsSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/tally-updated", (TallyUpdated e, ResultsBoard board, ResultsHub hub, TimeProvider time) =>
        {
            if (board.Apply(e.WindowId, e.Seq, e.Total, e.Counts, time.GetUtcNow()))
            {
                hub.Publish(board.Get(e.WindowId)!);
            }

            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.TallyUpdated);
        app.MapPost("/window-events/scheduled", (WindowScheduled e, ResultsBoard board, ResultsHub hub) =>
        {
            if (!Ids.IsValid(e.WindowId) || e.Title.Length > 200 || e.Candidates.Count > 100 || e.Candidates.Any(c => !Ids.IsValid(c)))
            {
                return TypedResults.Ok(); // not a window the orchestrator makes (it validates every definition)
            }

            board.Schedule(e.WindowId, e.Title, e.Candidates, e.OccurredAt);
            hub.Publish(board.Get(e.WindowId)!);
            return TypedResults.Ok();
        }).ForWindowEvent(EventTypes.WindowScheduled);
        app.MapIgnoredWindowEvents();
        return app;
    }
}
