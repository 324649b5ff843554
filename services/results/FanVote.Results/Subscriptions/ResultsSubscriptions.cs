using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Results.Core;
using FanVote.Results.Streaming;

namespace FanVote.Results;

/// <summary>
/// `tally-updated` snapshots (only tally publishes them), the `WindowScheduled` facts of `window-events` (only the
/// orchestrator), routed on the CloudEvent type, and poll questions' counts on `poll-updated` (only rewards); only the
/// sidecar may call these routes.
/// </summary>
public static class ResultsSubscriptions
{
    public static WebApplication MapResultsSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/tally-updated", (TallyUpdated e, ResultsBoard board, ResultsHub hub, TimeProvider time) =>
        {
            if (!Ids.IsPollResults(e.WindowId) && board.Apply(e.WindowId, e.Seq, e.Total, e.Counts, time.GetUtcNow()))
            {
                hub.Publish(board.Get(e.WindowId)!);
            }

            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.TallyUpdated);
        app.MapPost("/window-events/scheduled", (WindowScheduled e, ResultsBoard board, ResultsHub hub) =>
        {
            if (!Ids.IsValid(e.WindowId) || Ids.IsPollResults(e.WindowId) || e.Title.Length > 200 || e.Candidates.Count > 100 || e.Candidates.Any(c => !Ids.IsValid(c)))
            {
                return TypedResults.Ok(); // not a window the orchestrator makes (it validates every definition)
            }

            board.Schedule(e.WindowId, e.Title, e.Candidates, e.OccurredAt);
            hub.Publish(board.Get(e.WindowId)!);
            return TypedResults.Ok();
        }).ForWindowEvent(EventTypes.WindowScheduled);
        // Poll questions (only rewards publishes them), shown like windows under "poll_<poll>_<question>".
        app.MapPost("/poll-updated", (PollUpdated e, ResultsBoard board, ResultsHub hub, TimeProvider time) =>
        {
            if (!Ids.IsValid(e.ResultsId) || !Ids.IsPollResults(e.ResultsId) || e.Text.Length > 200 || e.Options.Count > 100 || e.Options.Any(o => !Ids.IsValid(o)))
            {
                return TypedResults.Ok(); // not a question rewards makes (it validates every poll)
            }

            board.Schedule(e.ResultsId, e.Text, e.Options, e.OccurredAt);
            if (!e.Hidden)
            {
                board.Apply(e.ResultsId, e.Seq, e.Total, e.Counts, time.GetUtcNow());
            }

            hub.Publish(board.Get(e.ResultsId)!);
            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.PollUpdated);
        app.MapIgnoredWindowEvents();
        return app;
    }
}
