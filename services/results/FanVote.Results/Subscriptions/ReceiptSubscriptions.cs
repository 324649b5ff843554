using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Results.Receipts;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Transport;

namespace FanVote.Results;

/// <summary>
/// The certified result (a `window-events` fact from the orchestrator) and the receipt chunks tally publishes after
/// the audit (only the sidecar may call these routes; only the orchestrator and tally may publish those topics). A
/// certified result is kept once and only with the auditor's valid signature; a chunk only when it fits it, and is
/// delivered again while its certified result has not arrived. What is refused is logged and acknowledged (delivering
/// it again would not change it).
/// </summary>
public static class ReceiptSubscriptions
{
    public static WebApplication MapReceiptSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-events/certified", async (WindowCertified e, ReceiptBook book, ILogger<ReceiptBook> log, CancellationToken ct) =>
        {
            var problem = e.WindowId != e.Result.WindowId ? "the event and its result name different windows" : await book.SaveCertifiedAsync(e.Result, ct);
            if (problem is not null)
            {
                ResultsLog.CertifiedRefused(log, e.WindowId, problem);
            }

            return TypedResults.Ok();
        }).ForWindowEvent(EventTypes.WindowCertified);
        app.MapPost("/receipt-chunks", async (ReceiptChunk e, ReceiptBook book, ILogger<ReceiptBook> log, CancellationToken ct) =>
        {
            switch (await book.SaveChunkAsync(e, ct))
            {
                case ReceiptBook.NotCertifiedYet:
                    return Deliveries.Retry();
                case { } problem:
                    ResultsLog.ChunkRefused(log, e.WindowId, e.ChunkIndex, problem);
                    break;
            }

            return Deliveries.Done();
        }).WithTopic(ComponentNames.VoteBus, Topics.ReceiptChunks);
        return app;
    }
}

internal static partial class ResultsLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "certified result for window {WindowId} refused: {Reason}")]
    public static partial void CertifiedRefused(ILogger logger, string windowId, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "receipt chunk {Index} of window {WindowId} refused: {Reason}")]
    public static partial void ChunkRefused(ILogger logger, string windowId, int index, string reason);
}
