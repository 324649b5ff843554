namespace FanVote.Tally;

internal static partial class TallyLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "vote ledger ready ({Windows} windows with counts)")]
    public static partial void LedgerReady(ILogger logger, int windows);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "vote ledger not reachable yet, retrying")]
    public static partial void LedgerWaiting(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "batch of {Count} votes not stored; the sidecar will redeliver it")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "vote entry {EntryId} can never be stored and goes to the dead-letter topic: {Reason}")]
    public static partial void Undecodable(ILogger logger, string entryId, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "publishing {Count} tally snapshots failed; will retry")]
    public static partial void PublishFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "vote {VoteId} reached the dead-letter topic: it exhausted its delivery retries and is NOT in the ledger")]
    public static partial void DeadLetter(ILogger logger, string voteId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "stored {Inserted} new votes ({Duplicates} duplicates) in {Ms} ms")]
    public static partial void BatchStored(ILogger logger, int inserted, int duplicates, double ms);
}
