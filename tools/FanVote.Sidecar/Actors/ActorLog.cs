namespace FanVote.Sidecar.Actors;

internal static partial class ActorLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "actor runtime: app hosts {Types}")]
    public static partial void Hosting(ILogger logger, string types);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "actor runtime: app hosts no actors ({Reason})")]
    public static partial void NoActors(ILogger logger, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Debug, Message = "deactivating idle actor {Type}/{Id}")]
    public static partial void Deactivating(ILogger logger, string type, string id);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "reminder {Type}/{Id}/{Name} callback failed (attempt {Attempt}): {Reason}")]
    public static partial void ReminderFailed(ILogger logger, string type, string id, string name, int attempt, string reason);

    [LoggerMessage(EventId = 404, Level = LogLevel.Warning, Message = "timer {Type}/{Id}/{Name} callback failed: {Reason}")]
    public static partial void TimerFailed(ILogger logger, string type, string id, string name, string reason);

    [LoggerMessage(EventId = 405, Level = LogLevel.Information, Message = "loaded {Count} persisted reminders")]
    public static partial void RemindersLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 406, Level = LogLevel.Warning, Message = "placement heartbeat failed")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 407, Level = LogLevel.Warning, Message = "deactivation of {Type}/{Id} failed: {Reason}")]
    public static partial void DeactivateFailed(ILogger logger, string type, string id, string reason);
}
