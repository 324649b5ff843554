using Microsoft.Extensions.Logging;

namespace FanVote.ServiceDefaults;

internal static partial class ServiceLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "a bulk delivery of {Topic} is not readable and was refused: {Reason}")]
    public static partial void BulkUnreadable(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Error, Message = "{Topic} entry {EntryId} can never be used and goes to the dead-letter topic: {Reason}")]
    public static partial void EntryDropped(ILogger logger, string topic, string entryId, string reason);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Error, Message = "{Topic}: {Id} reached the dead-letter topic (it exhausted its delivery retries or could never be used); it stays there for `./fanvote dlq`")]
    public static partial void DeadLetter(ILogger logger, string topic, string id);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning, Message = "operator API refused ({Reason}) from {Client}")]
    public static partial void OperatorRefused(ILogger logger, string reason, RedactedIp client);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Warning, Message = "{Setting} is not set: using the public development key. Never run like this outside Development.")]
    public static partial void DevelopmentKey(ILogger logger, string setting);

    [LoggerMessage(EventId = 9006, Level = LogLevel.Information, Message = "data request {RequestId} ({Kind}, attempt {Seq}) answered by {Service}")]
    public static partial void DataRequestAnswered(ILogger logger, string requestId, string kind, long seq, string service);

    [LoggerMessage(EventId = 9007, Level = LogLevel.Error, Message = "data request {RequestId} refused: {Reason}")]
    public static partial void DataRequestRefused(ILogger logger, string requestId, string reason);

    [LoggerMessage(EventId = 9008, Level = LogLevel.Warning, Message = "the keys in use are not reported yet (trying again every 2 s): {Error}")]
    public static partial void KeysNotYetReported(ILogger logger, string error);
}
