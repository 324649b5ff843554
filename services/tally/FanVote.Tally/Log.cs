namespace FanVote.Tally;

internal static partial class TallyLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "vote ledger ready ({Windows} windows with counts)")]
    public static partial void LedgerReady(ILogger logger, int windows);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "vote ledger not reachable yet, retrying")]
    public static partial void LedgerWaiting(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "batch of {Count} votes not stored; the sidecar will redeliver it")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "publishing {Count} tally snapshots failed; will retry")]
    public static partial void PublishFailed(ILogger logger, Exception exception, int count);

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

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "{Count} votes quarantined (kept, never counted): {Reasons}")]
    public static partial void Quarantined(ILogger logger, int count, string reasons);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "audit of window {WindowId} refused: {Reason}")]
    public static partial void AuditRefused(ILogger logger, string windowId, string reason);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "audit queue full: the request for window {WindowId} is dropped (its requester asks again)")]
    public static partial void AuditQueueFull(ILogger logger, string windowId);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "warm-up: decoded, screened and wrote {Written} of {Votes} warm-up votes in {Batches} ledger batches, every one rolled back")]
    public static partial void WarmedUp(ILogger logger, long written, int votes, int batches);

    [LoggerMessage(EventId = 17, Level = LogLevel.Information, Message = "retention: minimized {Windows} windows ({Votes} votes, {Flags} device flags) and {Quarantined} quarantined votes past {After}: IPs now prefixes, device ids keyed hashes")]
    public static partial void Minimized(ILogger logger, int windows, long votes, long quarantined, long flags, TimeSpan after);

    [LoggerMessage(EventId = 18, Level = LogLevel.Warning, Message = "retention pass failed, retried at the next tick: {Error}")]
    public static partial void RetentionFailed(ILogger logger, string error);
}
