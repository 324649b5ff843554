using System.Diagnostics;
using System.Text.Json;
using Dapr;
using Dapr.AspNetCore;
using FanVote.Contracts;
using FanVote.Tally.Core;
using Microsoft.Extensions.Options;

namespace FanVote.Tally;

/// <summary>
/// The bulk subscription to `votes`. An entry is SUCCESS only once its row is committed; a database failure
/// answers RETRY for the batch (the sidecar redelivers; the ledger ignores what it already has); an entry that
/// can never be stored is DROPped to `votes-dlq` and logged.
/// </summary>
public static class VoteSubscriptions
{
    public static WebApplication MapVoteSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var o = app.Services.GetRequiredService<IOptions<TallyOptions>>().Value;
        app.MapPost("/votes", HandleAsync)
            .WithTopic(new TopicOptions { PubsubName = ComponentNames.VoteBus, Name = Topics.Votes, DeadLetterTopic = Topics.VotesDeadLetter })
            .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = Topics.Votes, MaxMessagesCount = o.MaxBatch, MaxAwaitDurationMs = o.MaxAwaitMs });
        app.MapPost("/votes-dlq", DeadLetterAsync).WithTopic(ComponentNames.VoteBus, Topics.VotesDeadLetter);
        return app;
    }

    /// <summary>Votes that exhausted delivery retries: logged loudly (they stay on the stream for an operator to replay).</summary>
    private static async Task<IResult> DeadLetterAsync(HttpRequest request, ILoggerFactory logs)
    {
        using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        var voteId = doc.RootElement.TryGetProperty("voteId", out var v) ? v.ToString() : "(unknown)";
        TallyLog.DeadLetter(logs.CreateLogger("FanVote.Tally.Votes"), voteId);
        return Results.Ok();
    }

    private static async Task<IResult> HandleAsync(HttpRequest request, IVoteLedger ledger, LiveTally live, TallyMetrics metrics, ILoggerFactory logs)
    {
        var log = logs.CreateLogger("FanVote.Tally.Votes");
        IReadOnlyList<DeliveredVote> entries;
        using (var body = await PooledBody.ReadAsync(request, request.HttpContext.RequestAborted))
        {
            try
            {
                entries = VoteDelivery.Decode(body.Memory, "tally");
            }
            catch (JsonException)
            {
                return Results.BadRequest();
            }
        }

        var statuses = new List<(string EntryId, string Status)>(entries.Count);
        foreach (var bad in entries.Where(e => e.Vote is null))
        {
            TallyLog.Undecodable(log, bad.EntryId, bad.Error!);
            statuses.Add((bad.EntryId, "DROP"));
        }

        var good = entries.Where(e => e.Vote is not null).ToList();
        metrics.BatchSize.Record(entries.Count);
        metrics.DeadLettered.Add(entries.Count - good.Count);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var result = await ledger.AppendAsync([.. good.Select(e => e.Vote!)], request.HttpContext.RequestAborted);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            metrics.WriteLatency.Record(ms);
            metrics.Inserted.Add(result.Inserted);
            metrics.Duplicates.Add(result.Duplicates);
            live.Apply(result.Changed);
            TallyLog.BatchStored(log, result.Inserted, result.Duplicates, ms);
            statuses.AddRange(good.Select(e => (e.EntryId, "SUCCESS")));
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            TallyLog.BatchFailed(log, e, good.Count);
            metrics.Retried.Add(1);
            statuses.AddRange(good.Select(x => (x.EntryId, "RETRY")));
        }

        return Results.Bytes(VoteDelivery.EncodeStatuses(statuses), "application/json");
    }
}
