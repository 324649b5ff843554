namespace FanVote.Ingress;

internal static partial class IngressLog
{
    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "{Count} votes sent without confirmation could not be recorded as unconfirmed; if they reached the ledger the audit will report them unexplained")]
    public static partial void UnconfirmedNotRecorded(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "bulk publish of {Count} votes failed; they get 503 and may be retried")]
    public static partial void PublishFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "window {WindowId} scheduled: {OpensAt} to {ClosesAt}")]
    public static partial void WindowKnown(ILogger logger, string windowId, DateTimeOffset opensAt, DateTimeOffset closesAt);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "loaded {Count} window schedules from Redis")]
    public static partial void WindowsLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "risk verdict {Action} for {SubjectKind} {Subject} until {ExpiresAt} (model {ModelVersion})")]
    public static partial void VerdictApplied(ILogger logger, FanVote.Contracts.Events.RiskAction action, string subjectKind, FanVote.ServiceDefaults.RedactedId subject, DateTimeOffset expiresAt, string modelVersion);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Redis unavailable ({Error}) during {Path}: answered 503 with Retry-After")]
    public static partial void RedisUnavailable(ILogger logger, string error, string path);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "loaded {Count} risk verdicts from Redis")]
    public static partial void VerdictsLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "pruned {Count} lapsed risk verdicts and passed challenges from Redis")]
    public static partial void VerdictsPruned(ILogger logger, long count);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "could not prune lapsed risk verdicts ({Error}); trying again at the next sweep")]
    public static partial void VerdictsPruneFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "warm-up: the vote endpoint accepted {Accepted} of {Votes} warm-up votes (nothing published or counted, their keys removed); HTTP answered {Statuses}")]
    public static partial void WarmedUp(ILogger logger, int accepted, int votes, string statuses);
}
