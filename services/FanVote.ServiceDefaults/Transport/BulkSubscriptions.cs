using System.Diagnostics;
using System.Text.Json;
using Dapr;
using Dapr.AspNetCore;
using FanVote.Contracts;
using FanVote.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FanVote.ServiceDefaults.Transport;

/// <summary>
/// What a bulk subscriber's handler gets: the readable entries of one delivery, in order; when tracing is on, the
/// trace context each entry's CloudEvent carried (same order; default where it carried none).
/// </summary>
/// <typeparam name="T">The decoded data of each entry.</typeparam>
public sealed record BulkBatch<T>(IReadOnlyList<T> Items, HttpContext Context)
{
    /// <summary>The trace of each item (empty when tracing is off).</summary>
    public IReadOnlyList<ActivityContext> Traces { get; init; } = [];
}

/// <summary>
/// The one way FanVote hosts subscribe in bulk and handle dead letters: the route with its topic, bulk settings and
/// dead-letter topic; the body read into a pooled buffer and decoded in one pass; entries that can never be read
/// dropped (→ the dead-letter topic) and logged; the handler's typed statuses, one per readable entry, written back;
/// and a dead-letter route that logs every dead letter with its id. When tracing is on, the handler runs in a
/// "deliver {topic}" span that continues the traces the entries' CloudEvents carry (<see cref="FanVoteTracing.StartForMany"/>),
/// so the store calls it makes are part of the votes' traces. Only the app's sidecar may call these routes
/// (the app-token fallback policy of <see cref="Auth.FanVoteAuth"/>).
/// </summary>
public static class BulkSubscriptions
{
    /// <param name="app">The host.</param>
    /// <param name="topic">The topic on `vote-bus`; its route is "/" + topic.</param>
    /// <param name="deadLetterTopic">Where dropped and exhausted entries go; it gets its own logging route.</param>
    /// <param name="maxMessages">Largest delivery.</param>
    /// <param name="maxAwaitMs">Longest wait to fill a delivery.</param>
    /// <param name="handle">Returns one status per item of the batch, in order.</param>
    public static RouteHandlerBuilder MapBulkSubscription<T, TData>(
        this WebApplication app, string topic, string deadLetterTopic, int maxMessages, int maxAwaitMs, Func<BulkBatch<T>, Task<IReadOnlyList<BulkStatus>>> handle)
        where T : class
        where TData : IBulkData<T>
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(handle);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FanVote.Subscriptions." + topic);
        app.MapDeadLetters(deadLetterTopic);
        return app.MapPost("/" + topic, async (HttpContext ctx) =>
            {
                List<BulkEntry<T>> entries;
                var tracing = FanVoteTracing.IsOn;
                using (var body = await PooledBody.ReadAsync(ctx.Request, ctx.RequestAborted))
                {
                    try
                    {
                        entries = BulkDelivery.Decode<T, TData>(body.Memory, readTraceParent: tracing);
                    }
                    catch (JsonException e)
                    {
                        ServiceLog.BulkUnreadable(log, topic, e.Message);
                        return Results.BadRequest();
                    }
                }

                var statuses = new List<(string, BulkStatus)>(entries.Count);
                var items = new List<T>(entries.Count);
                var traces = tracing ? new List<ActivityContext>(entries.Count) : null;
                foreach (var e in entries)
                {
                    if (e.Value is null)
                    {
                        ServiceLog.EntryDropped(log, topic, e.EntryId, e.Error!);
                        statuses.Add((e.EntryId, BulkStatus.Drop));
                    }
                    else
                    {
                        items.Add(e.Value);
                        traces?.Add(FanVoteTracing.Parse(e.TraceParent) ?? default);
                    }
                }

                IReadOnlyList<BulkStatus> answers = [];
                if (items.Count > 0)
                {
                    using var span = traces is null ? null
                        : FanVoteTracing.StartForMany("deliver " + topic, ActivityKind.Consumer, traces.FindAll(t => t != default));
                    span?.SetTag("messaging.destination.name", topic);
                    span?.SetTag("messaging.batch.message_count", items.Count);
                    answers = await handle(new BulkBatch<T>(items, ctx) { Traces = traces ?? [] });
                }
                if (answers.Count != items.Count)
                {
                    throw new InvalidOperationException($"the {topic} handler answered {answers.Count} statuses for {items.Count} entries");
                }

                var i = 0;
                foreach (var e in entries)
                {
                    if (e.Value is not null)
                    {
                        statuses.Add((e.EntryId, answers[i++]));
                    }
                }

                return Results.Bytes(BulkDelivery.EncodeStatuses(statuses), "application/json");
            })
            .WithTopic(new TopicOptions { PubsubName = ComponentNames.VoteBus, Name = topic, DeadLetterTopic = deadLetterTopic })
            .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = maxMessages, MaxAwaitDurationMs = maxAwaitMs });
    }

    /// <summary>
    /// Subscribes "/" + <paramref name="deadLetterTopic"/>: every dead letter is logged as an error with its id (the
    /// first of voteId, windowId, eventId it has) and acknowledged; it stays on the dead-letter stream for an operator
    /// to inspect and replay.
    /// </summary>
    public static RouteHandlerBuilder MapDeadLetters(this WebApplication app, string deadLetterTopic)
    {
        ArgumentNullException.ThrowIfNull(app);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FanVote.Subscriptions." + deadLetterTopic);
        return app.MapPost("/" + deadLetterTopic, async (HttpRequest request) =>
        {
            var id = "(unreadable)";
            try
            {
                using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
                var root = doc.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
                {
                    root = data;
                }

                id = root.ValueKind != JsonValueKind.Object ? "(no id)"
                    : root.TryGetProperty("voteId", out var v) ? "vote " + v
                    : root.TryGetProperty("windowId", out var w) ? "window " + w
                    : root.TryGetProperty("eventId", out var ev) ? "event " + ev
                    : "(no id)";
            }
            catch (JsonException)
            {
            }

            ServiceLog.DeadLetter(log, deadLetterTopic, id);
            return Results.Ok();
        }).WithTopic(ComponentNames.VoteBus, deadLetterTopic);
    }
}
