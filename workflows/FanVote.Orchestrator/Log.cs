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

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "action log #{Seq}: {Action} on {Target} by {Actor} from {From}: {Outcome}")]
    public static partial void ActionLogged(ILogger logger, long seq, string action, string target, string actor, FanVote.ServiceDefaults.RedactedIp from, string outcome);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "action log #{Seq} is stored but its anchor could not be written to {Path}: {Error}")]
    public static partial void AnchorFailed(ILogger logger, long seq, string path, string error);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "no {Setting}: the action log's heads are not anchored outside the state store (Development only), so a cut tail would not show")]
    public static partial void NoActionAnchors(ILogger logger, string setting);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "data request {RequestId} ({Kind}): {Step}")]
    public static partial void DataRequestStep(ILogger logger, string requestId, string kind, string step);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "data request {RequestId}: asking failed ({Failures} so far): {Error}")]
    public static partial void DataRequestFailed(ILogger logger, string requestId, int failures, string error);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "a data report for {RequestId} was dropped: no such request")]
    public static partial void DataReportDropped(ILogger logger, string requestId);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "a keys-in-use report claiming app {App} was dropped: not an app's, or malformed")]
    public static partial void KeysReportDropped(ILogger logger, string app);
}
