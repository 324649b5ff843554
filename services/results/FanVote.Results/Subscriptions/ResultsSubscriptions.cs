using Dapr;
using Dapr.AspNetCore;
using FanVote.Contracts;
using FanVote.Contracts.Events;
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
        }).WithTopic(new TopicOptions
        {
            PubsubName = ComponentNames.VoteBus,
            Name = Topics.WindowEvents,
            Match = $"event.type == \"{EventTypes.WindowScheduled}\"",
            Priority = 1,
        });
        app.MapPost("/window-events", () => TypedResults.Ok()).WithTopic(ComponentNames.VoteBus, Topics.WindowEvents);
        return app;
    }
}
