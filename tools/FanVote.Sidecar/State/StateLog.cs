namespace FanVote.Sidecar.State;

internal static partial class StateLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "state store {Name} connected to {Target}")]
    public static partial void StoreReady(ILogger logger, string name, string target);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "state store {Name}: removed {Count} expired rows")]
    public static partial void Cleaned(ILogger logger, string name, int count);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "state store {Name}: expired-row cleanup failed")]
    public static partial void CleanupFailed(ILogger logger, Exception exception, string name);
}
