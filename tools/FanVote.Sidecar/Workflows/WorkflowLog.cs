namespace FanVote.Sidecar.Workflows;

internal static partial class WorkflowLog
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "workflows: no actor state store, the workflow API answers UNAVAILABLE")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "workflows: {Count} unfinished instance(s) recovered ({ActorType})")]
    public static partial void Recovered(ILogger logger, int count, string actorType);

    [LoggerMessage(EventId = 713, Level = LogLevel.Warning, Message = "workflows: recovery could not read the actor state store; retrying")]
    public static partial void RecoveryFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 702, Level = LogLevel.Information, Message = "workflows: worker stream {Stream} connected ({Count} open)")]
    public static partial void WorkerConnected(ILogger logger, long stream, int count);

    [LoggerMessage(EventId = 703, Level = LogLevel.Information, Message = "workflows: worker stream {Stream} ended; {Open} work item(s) on it are handed out again")]
    public static partial void WorkerDisconnected(ILogger logger, long stream, int open);

    [LoggerMessage(EventId = 704, Level = LogLevel.Debug, Message = "workflows: stale {Kind} completion for {InstanceId} ignored")]
    public static partial void StaleCompletion(ILogger logger, string kind, string instanceId);

    [LoggerMessage(EventId = 705, Level = LogLevel.Warning, Message = "workflows: saving {InstanceId} failed; retrying")]
    public static partial void CommitFailed(ILogger logger, Exception exception, string instanceId);

    [LoggerMessage(EventId = 706, Level = LogLevel.Information, Message = "workflows: {InstanceId} created ({Name})")]
    public static partial void Created(ILogger logger, string instanceId, string name);

    [LoggerMessage(EventId = 707, Level = LogLevel.Information, Message = "workflows: {InstanceId} finished: {Status}")]
    public static partial void Completed(ILogger logger, string instanceId, Dapr.DurableTask.Protobuf.OrchestrationStatus status);

    [LoggerMessage(EventId = 708, Level = LogLevel.Warning, Message = "workflows: {InstanceId}: {What}")]
    public static partial void Unsupported(ILogger logger, string instanceId, string what);

    [LoggerMessage(EventId = 709, Level = LogLevel.Warning, Message = "workflows: {InstanceId} is stalled: {Description}")]
    public static partial void Stalled(ILogger logger, string instanceId, string description);

    [LoggerMessage(EventId = 710, Level = LogLevel.Warning, Message = "workflows: delivering messages of {InstanceId} failed; retrying")]
    public static partial void DeliveryFailed(ILogger logger, Exception exception, string instanceId);

    [LoggerMessage(EventId = 711, Level = LogLevel.Information, Message = "workflows: event {Name} to {InstanceId} dropped: no running instance")]
    public static partial void EventDropped(ILogger logger, string instanceId, string name);

    [LoggerMessage(EventId = 712, Level = LogLevel.Warning, Message = "workflows: start of {Name} as {InstanceId} refused: an instance with this id is running")]
    public static partial void StartRefused(ILogger logger, string instanceId, string name);
}
