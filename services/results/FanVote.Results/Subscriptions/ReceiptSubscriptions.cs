using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Results.Receipts;
using FanVote.ServiceDefaults;

namespace FanVote.Results;

/// <summary>
/// The certified result (a `window-events` fact from the orchestrator) and the receipt chunks tally publishes after
/// the audit. Both are stored by key, so redelivery is harmless.
/// </summary>
public static class ReceiptSubscriptions
{
    public static WebApplication MapReceiptSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-events/certified", async (WindowCertified e, ReceiptBook book, CancellationToken ct) =>
        {
            await book.SaveCertifiedAsync(e.Result, ct);
            return TypedResults.Ok();
        }).ForWindowEvent(EventTypes.WindowCertified);
        app.MapPost("/receipt-chunks", async (ReceiptChunk e, ReceiptBook book, CancellationToken ct) =>
        {
            await book.SaveChunkAsync(e, ct);
            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.ReceiptChunks);
        return app;
    }
}
