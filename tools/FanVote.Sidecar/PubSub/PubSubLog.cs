namespace FanVote.Sidecar.PubSub;

/// <summary>Structured log messages of the pub/sub area.</summary>
internal static partial class PubSubLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "subscribed: pubsub {Pubsub} topic {Topic} consumer group {ConsumerId} ({Source}, rules: {Rules}, bulk: {Bulk}, dead letter: {DeadLetter})")]
    public static partial void Subscribed(ILogger logger, string pubsub, string topic, string consumerId, string source, string rules, bool bulk, string deadLetter);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "subscription to {Pubsub}/{Topic} has neither an inbound retry policy nor a deadLetterTopic: the first failed delivery loses the message (Redis acks it; daprd 1.17+ does the same)")]
    public static partial void NoRetryNoDeadLetter(ILogger logger, string pubsub, string topic);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "subscription to {Pubsub}/{Topic} ({Source}) skipped: {Reason}")]
    public static partial void SubscriptionSkipped(ILogger logger, string pubsub, string topic, string source, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "GET /dapr/subscribe answered {Status}; the app has no programmatic subscriptions")]
    public static partial void SubscribeEndpointFailed(ILogger logger, int status);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "GET /dapr/subscribe attempt {Attempt} failed; retrying")]
    public static partial void SubscribeEndpointRetry(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(EventId = 110, Level = LogLevel.Error, Message = "message {MessageId} on {Pubsub}/{Topic} is LOST: delivery failed and retries are exhausted, and the subscription has no deadLetterTopic")]
    public static partial void MessageLost(ILogger logger, Exception exception, string messageId, string pubsub, string topic);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "message {MessageId} on {Pubsub}/{Topic} sent to dead-letter topic {DeadLetter}: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string messageId, string pubsub, string topic, string deadLetter, string reason);

    [LoggerMessage(EventId = 112, Level = LogLevel.Warning, Message = "message {MessageId} on {Pubsub}/{Topic} dropped: {Reason}")]
    public static partial void Dropped(ILogger logger, string messageId, string pubsub, string topic, string reason);

    [LoggerMessage(EventId = 113, Level = LogLevel.Error, Message = "message {MessageId} on {Pubsub}/{Topic} dropped: the app answered 404 for {Path}")]
    public static partial void DroppedNotFound(ILogger logger, string messageId, string pubsub, string topic, string path);

    [LoggerMessage(EventId = 114, Level = LogLevel.Error, Message = "message {MessageId} on {Pubsub}/{Topic} could not be sent to dead-letter topic {DeadLetter}")]
    public static partial void DeadLetterFailed(ILogger logger, Exception exception, string messageId, string pubsub, string topic, string deadLetter);

    [LoggerMessage(EventId = 115, Level = LogLevel.Debug, Message = "delivery of {MessageId} on {Pubsub}/{Topic} failed: {Reason}")]
    public static partial void DeliveryFailed(ILogger logger, string messageId, string pubsub, string topic, string reason);

    [LoggerMessage(EventId = 116, Level = LogLevel.Error, Message = "message on {Pubsub}/{Topic} is not a valid CloudEvent and there is no deadLetterTopic; it is discarded")]
    public static partial void Undecodable(ILogger logger, Exception exception, string pubsub, string topic);

    [LoggerMessage(EventId = 120, Level = LogLevel.Warning, Message = "redis stream {Topic} group {Group}: {Operation} failed; retrying")]
    public static partial void RedisLoopError(ILogger logger, Exception exception, string topic, string group, string operation);

    [LoggerMessage(EventId = 121, Level = LogLevel.Debug, Message = "redis stream {Topic} entry {Id} left pending: handler cancelled or exceeded processingTimeout")]
    public static partial void LeftPending(ILogger logger, string topic, string id);

    [LoggerMessage(EventId = 122, Level = LogLevel.Debug, Message = "redis stream {Topic} group {Group}: reclaimed {Count} pending entries")]
    public static partial void Reclaimed(ILogger logger, string topic, string group, int count);

    [LoggerMessage(EventId = 123, Level = LogLevel.Error, Message = "handler for {Topic} entry {Id} failed; the entry is acknowledged anyway (components-contrib 1.17+)")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string topic, string id);

    [LoggerMessage(EventId = 124, Level = LogLevel.Warning, Message = "redis stream {Topic}: entry {Id} has no data field; acknowledged and skipped")]
    public static partial void NoDataField(ILogger logger, string topic, string id);

    [LoggerMessage(EventId = 125, Level = LogLevel.Debug, Message = "redis stream {Topic}: trimmed {Count} entries below {MinId}, which every one of its {Groups} consumer groups has acknowledged")]
    public static partial void Trimmed(ILogger logger, string topic, long count, string minId, int groups);

    [LoggerMessage(EventId = 126, Level = LogLevel.Warning, Message = "redis stream {Topic}: trim failed; trying again at the next interval")]
    public static partial void TrimFailed(ILogger logger, Exception exception, string topic);
}
