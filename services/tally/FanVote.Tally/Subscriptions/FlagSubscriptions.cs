using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults.Transport;
using FanVote.Tally.Adapters;

namespace FanVote.Tally;

/// <summary>
/// `vote-flags` from the fraud service (only the sidecar may call the route; only fraud may publish the topic): the
/// flags are stored beside the ledger (idempotent by vote id) for the audit to exclude. A flag for a window already
/// audited is stored and logged: the certified result does not change.
/// </summary>
public static class FlagSubscriptions
{
    public static WebApplication MapFlagSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/vote-flags", async (VotesFlagged e, PostgresAuditStore store, TallyMetrics metrics, ILoggerFactory logs, CancellationToken ct) =>
        {
            var (inserted, afterAudit) = await store.AddFlagsAsync(e, ct);
            metrics.Flags.Add(inserted);
            if (afterAudit && inserted > 0)
            {
                TallyLog.LateFlags(logs.CreateLogger("FanVote.Tally.Flags"), inserted, e.WindowId);
            }

            return TypedResults.Ok();
        }).WithTopic(new TopicOptions { PubsubName = ComponentNames.VoteBus, Name = Topics.VoteFlags, DeadLetterTopic = Topics.VoteFlagsDeadLetter });
        app.MapDeadLetters(Topics.VoteFlagsDeadLetter);
        return app;
    }
}
