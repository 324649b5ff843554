using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Results.Core;
using FanVote.Results.Streaming;

namespace FanVote.Results;

/// <summary>`tally-updated` snapshots and the `WindowScheduled` facts of `window-events` (routed on the CloudEvent type).</summary>
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
            board.Schedule(e.WindowId, e.Title, e.Candidates, e.OccurredAt);
            hub.Publish(board.Get(e.WindowId)!);
            return TypedResults.Ok();
        }).ForWindowEvent(EventTypes.WindowScheduled);
        app.MapIgnoredWindowEvents();
        return app;
    }
}
