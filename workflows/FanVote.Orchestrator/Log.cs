namespace FanVote.Orchestrator;

internal static partial class OrchestratorLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "window {WindowId} created: opens {OpensAt}, closes {ClosesAt}")]
    public static partial void WindowCreated(ILogger logger, string windowId, DateTimeOffset opensAt, DateTimeOffset closesAt);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "window {WindowId} is now {Phase}: {Outcome}")]
    public static partial void WindowStep(ILogger logger, string windowId, FanVote.Workflows.WindowPhase phase, string outcome);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "window {WindowId}: the step out of {Phase} failed ({Failures} in a row), retrying with backoff: {Error}")]
    public static partial void StepFailed(ILogger logger, string windowId, FanVote.Workflows.WindowPhase phase, int failures, string error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "a window report for {WindowId} was dropped: no such window")]
    public static partial void ReportDropped(ILogger logger, string windowId);
}
