using FanVote.Contracts;
using FanVote.Fraud.Core;
using FanVote.Fraud.Scoring;
using FanVote.ServiceDefaults.Transport;
using FanVote.Transport;
using Microsoft.Extensions.Options;

namespace FanVote.Fraud;

/// <summary>
/// The fraud service's own bulk subscription to `votes` (its own consumer group: it sees every vote the tally sees;
/// only its sidecar may call the route). Every readable entry is SUCCESS once scored; an unreadable one is DROPped to
/// `votes-fraud-dlq` and logged.
/// </summary>
public static class VoteSubscriptions
{
    public static WebApplication MapVoteSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var o = app.Services.GetRequiredService<IOptions<FraudOptions>>().Value;
        app.MapBulkSubscription<AcceptedVote, VoteData>(Topics.Votes, Topics.VotesFraudDeadLetter, o.MaxBatch, o.MaxAwaitMs, async batch =>
        {
            await batch.Context.RequestServices.GetRequiredService<FraudPipeline>().ProcessAsync([.. batch.Items.Select(BulkVotes.ToInput)], batch.Context.RequestAborted);
            return [.. batch.Items.Select(_ => BulkStatus.Success)];
        });
        return app;
    }
}
