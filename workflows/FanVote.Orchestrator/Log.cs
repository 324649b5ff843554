namespace FanVote.Orchestrator;

internal static partial class OrchestratorLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "window {WindowId} created: opens {OpensAt}, closes {ClosesAt}")]
    public static partial void WindowCreated(ILogger logger, string windowId, DateTimeOffset opensAt, DateTimeOffset closesAt);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "window {WindowId} is now {Phase}")]
    public static partial void WindowStep(ILogger logger, string windowId, string phase);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "operator request refused: {Reason}")]
    public static partial void OperatorRefused(ILogger logger, string reason);
}
