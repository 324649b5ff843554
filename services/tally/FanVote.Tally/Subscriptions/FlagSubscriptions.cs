using System.Text.Json;
using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Tally.Adapters;

namespace FanVote.Tally;

/// <summary>
/// `vote-flags` from the fraud service: the flags are stored beside the ledger (idempotent by vote id) for the audit
/// to exclude. A flag for a window already audited is stored and logged: the certified result does not change.
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
        app.MapPost("/vote-flags-dlq", async (HttpRequest request, ILoggerFactory logs) =>
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            var window = doc.RootElement.TryGetProperty("windowId", out var w) ? w.ToString() : "(unknown)";
            TallyLog.FlagDeadLetter(logs.CreateLogger("FanVote.Tally.Flags"), window);
            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.VoteFlagsDeadLetter);
        return app;
    }
}
