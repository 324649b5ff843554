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

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "window {WindowId} audited: {Total} counted, {Excluded} excluded, live tally matches: {LiveMatches}; digest {Digest}")]
    public static partial void Audited(ILogger logger, string windowId, long total, long excluded, bool liveMatches, string digest);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error, Message = "{Job} for window {WindowId} failed; its requester will ask again")]
    public static partial void AuditJobFailed(ILogger logger, Exception exception, string windowId, string job);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "counted voters of window {WindowId} were asked for, but it has not been audited")]
    public static partial void VotersOfUnauditedWindow(ILogger logger, string windowId);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "{Count} fraud flags for window {WindowId} arrived after its audit: stored, but the certified result stands")]
    public static partial void LateFlags(ILogger logger, int count, string windowId);

    [LoggerMessage(EventId = 12, Level = LogLevel.Error, Message = "fraud flags for window {WindowId} reached the dead-letter topic: they exhausted their delivery retries and are NOT stored")]
    public static partial void FlagDeadLetter(ILogger logger, string windowId);
}
