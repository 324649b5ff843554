using System.Text.Json;
using Dapr;
using Dapr.AspNetCore;
using FanVote.Contracts;
using FanVote.Fraud.Core;
using FanVote.Fraud.Scoring;
using Microsoft.Extensions.Options;

namespace FanVote.Fraud;

/// <summary>
/// The fraud service's own bulk subscription to `votes` (its own consumer group: it sees every vote the tally sees).
/// Every readable entry is SUCCESS once scored; an unreadable one is DROPped to `votes-fraud-dlq` and logged.
/// </summary>
public static class VoteSubscriptions
{
    public static WebApplication MapVoteSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var o = app.Services.GetRequiredService<IOptions<FraudOptions>>().Value;
        app.MapPost("/votes", HandleAsync)
            .WithTopic(new TopicOptions { PubsubName = ComponentNames.VoteBus, Name = Topics.Votes, DeadLetterTopic = Topics.VotesFraudDeadLetter })
            .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = Topics.Votes, MaxMessagesCount = o.MaxBatch, MaxAwaitDurationMs = o.MaxAwaitMs });
        app.MapPost("/votes-fraud-dlq", DeadLetterAsync).WithTopic(ComponentNames.VoteBus, Topics.VotesFraudDeadLetter);
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpRequest request, FraudPipeline pipeline, ILoggerFactory logs)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        List<BulkVote> entries;
        try
        {
            entries = BulkVotes.Decode(body.GetBuffer().AsMemory(0, (int)body.Length));
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }

        var log = logs.CreateLogger("FanVote.Fraud.Votes");
        foreach (var bad in entries.Where(e => e.Error is not null))
        {
            FraudLog.Undecodable(log, bad.EntryId, bad.Error!);
        }

        await pipeline.ProcessAsync([.. entries.Where(e => e.Error is null).Select(e => e.Vote)], request.HttpContext.RequestAborted);
        return Results.Bytes(VoteDelivery.EncodeStatuses([.. entries.Select(e => (e.EntryId, e.Error is null ? "SUCCESS" : "DROP"))]), "application/json");
    }

    /// <summary>Votes the fraud service never scored: logged (they are still in the ledger; only their risk is unknown).</summary>
    private static async Task<IResult> DeadLetterAsync(HttpRequest request, ILoggerFactory logs)
    {
        using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        var voteId = doc.RootElement.TryGetProperty("voteId", out var v) ? v.ToString() : "(unknown)";
        FraudLog.DeadLetter(logs.CreateLogger("FanVote.Fraud.Votes"), voteId);
        return Results.Ok();
    }
}
