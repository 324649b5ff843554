namespace FanVote.Fraud;

internal static partial class FraudLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "fraud model {Version} ({Algorithm}) in use, threshold {Threshold}, from {Root}")]
    public static partial void ModelLoaded(ILogger logger, string version, string algorithm, double threshold, string root);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "fraud model {Version} cannot be used; keeping {Kept}")]
    public static partial void ModelRejected(ILogger logger, Exception exception, string version, string kept);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "no fraud model promoted in {Root}: votes are tracked but not scored until one is (./fanvote train promote VERSION)")]
    public static partial void NoModel(ILogger logger, string root);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "vote entry {EntryId} cannot be read and goes to the dead-letter topic: {Error}")]
    public static partial void Undecodable(ILogger logger, string entryId, string error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "vote {VoteId} was dead-lettered by the fraud service's subscription (it was never scored)")]
    public static partial void DeadLetter(ILogger logger, string voteId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "verdict {Action} for {SubjectKind} {Subject}: score {Score}, reasons {Reasons}, model {Version}")]
    public static partial void Verdict(ILogger logger, FanVote.Contracts.Events.RiskAction action, string subjectKind, FanVote.ServiceDefaults.RedactedId subject, double score, IReadOnlyList<string> reasons, string version);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "publishing {Topic} failed; retrying in {DelayMs} ms")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string topic, int delayMs);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "the outbox is full: {Count} flagged vote ids of {Subject} were dropped")]
    public static partial void OutboxFull(ILogger logger, int count, FanVote.ServiceDefaults.RedactedId subject);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "verdict for {Subject} expired before it could be published ({ExpiresAt}); not sent")]
    public static partial void VerdictStale(ILogger logger, FanVote.ServiceDefaults.RedactedId subject, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "could not tell the orchestrator that model {Version} is in use, retrying every 2 s: {Error}")]
    public static partial void AnnounceRetrying(ILogger logger, string version, string error);
}
