using Dapr.DurableTask.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace FanVote.Sidecar.Workflows;

/// <summary>A workflow turn given to the app: its token, the events it carries and the stream it went to.</summary>
public sealed record InFlightTurn(string Token, IReadOnlyList<HistoryEvent> NewEvents, int InboxCount, long StreamId);

/// <summary>
/// One workflow instance in memory: the persisted <see cref="InstanceRecord"/> and what is derived from it (status,
/// execution id, pending activities and timers). Every access holds <see cref="Gate"/>; an evicted object is stale and
/// the caller looks the instance up again.
/// </summary>
public sealed class InstanceState(string id)
{
    /// <summary>The sentinel fire time of an indefinite external-event wait: such a timer never fires.</summary>
    public static readonly Timestamp NeverFires = new() { Seconds = 253402300799L, Nanos = 999999999 };

    public string Id { get; } = id;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public bool Loaded { get; set; }

    public bool Evicted { get; set; }

    public InstanceRecord Record { get; set; } = InstanceRecord.Empty;

    public InFlightTurn? Turn { get; set; }

    /// <summary>Stalled (a version the worker cannot run): no turns until a worker (re)connects.</summary>
    public bool StallHeld { get; set; }

    public bool Exists => Record.History.Count > 0 || Record.Inbox.Count > 0;

    /// <summary>The start event of the current execution: from history once started, else the pending one in the inbox.</summary>
    public HistoryEvent? StartEvent =>
        Record.History.FirstOrDefault(e => e.ExecutionStarted is not null) ?? Record.Inbox.FirstOrDefault(e => e.ExecutionStarted is not null);

    public bool Started => Record.History.Any(e => e.ExecutionStarted is not null);

    public ExecutionCompletedEvent? Completed => Record.History.LastOrDefault(e => e.ExecutionCompleted is not null)?.ExecutionCompleted;

    public bool IsTerminal => Completed is not null;

    public string? ExecutionId => StartEvent?.ExecutionStarted.WorkflowInstance?.ExecutionId;

    public bool IsStalled => Record.History.Count > 0 && Record.History[^1].ExecutionStalled is not null;

    /// <summary>Suspended when the last suspend/resume request (committed or still in the inbox) is a suspend.</summary>
    public bool IsSuspended =>
        Record.History.Concat(Record.Inbox).LastOrDefault(e => e.ExecutionSuspended is not null || e.ExecutionResumed is not null)?.ExecutionSuspended is not null;

    public OrchestrationStatus Status =>
        Completed is { } c ? c.WorkflowStatus
        : !Started ? OrchestrationStatus.Pending
        : IsStalled ? OrchestrationStatus.Stalled
        : IsSuspended ? OrchestrationStatus.Suspended
        : OrchestrationStatus.Running;

    /// <summary>When a start was scheduled for later and that time has not come, nothing runs before it.</summary>
    public DateTimeOffset? ScheduledStart =>
        !Started && StartEvent?.ExecutionStarted.ScheduledStartTimestamp is { } at ? at.ToDateTimeOffset() : null;

    public bool HasTerminateRequest => Record.Inbox.Any(e => e.ExecutionTerminated is not null);

    public bool Runnable(DateTimeOffset now) =>
        Record.Inbox.Count > 0 && !IsTerminal && Turn is null
        && (HasTerminateRequest || (!StallHeld && (ScheduledStart is not { } s || s <= now)));

    /// <summary>True when history or inbox already resolves the task/timer/child with this id (daprd's dedup).</summary>
    public bool IsResolved(HistoryEvent.EventTypeOneofCase kind, int id) =>
        Record.History.Concat(Record.Inbox).Any(e => ResolutionOf(e) is { } r && r.Kind == kind && r.Id == id);

    /// <summary>(kind, id) of a completion event: task, timer or child, each kind its own id space.</summary>
    public static (HistoryEvent.EventTypeOneofCase Kind, int Id)? ResolutionOf(HistoryEvent e) => e.EventTypeCase switch
    {
        HistoryEvent.EventTypeOneofCase.TaskCompleted => (HistoryEvent.EventTypeOneofCase.TaskScheduled, e.TaskCompleted.TaskScheduledId),
        HistoryEvent.EventTypeOneofCase.TaskFailed => (HistoryEvent.EventTypeOneofCase.TaskScheduled, e.TaskFailed.TaskScheduledId),
        HistoryEvent.EventTypeOneofCase.TimerFired => (HistoryEvent.EventTypeOneofCase.TimerCreated, e.TimerFired.TimerId),
        HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCompleted => (HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCreated, e.ChildWorkflowInstanceCompleted.TaskScheduledId),
        HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceFailed => (HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCreated, e.ChildWorkflowInstanceFailed.TaskScheduledId),
        _ => null,
    };

    /// <summary>Activities scheduled in this execution and not yet answered (re-dispatched after a restart).</summary>
    public IEnumerable<HistoryEvent> UnresolvedTasks() =>
        IsTerminal ? [] : Record.History.Where(e => e.TaskScheduled is not null && !IsResolved(HistoryEvent.EventTypeOneofCase.TaskScheduled, e.EventId));

    /// <summary>Timers created in this execution that have not fired, the never-firing sentinel excluded.</summary>
    public IEnumerable<HistoryEvent> UnfiredTimers() =>
        IsTerminal ? [] : Record.History.Where(e => e.TimerCreated is not null && !NeverFires.Equals(e.TimerCreated.FireAt)
            && !IsResolved(HistoryEvent.EventTypeOneofCase.TimerCreated, e.EventId));

    /// <summary>Children created by this execution (for recursive terminate and purge).</summary>
    public IEnumerable<string> Children() =>
        Record.History.Where(e => e.ChildWorkflowInstanceCreated is not null).Select(e => e.ChildWorkflowInstanceCreated.InstanceId).Distinct(StringComparer.Ordinal);

    /// <summary>The client-facing view (GetInstance, the waits).</summary>
    public WorkflowState ToState(bool withInputsAndOutputs)
    {
        var start = StartEvent;
        var s = new WorkflowState
        {
            InstanceId = Id,
            WorkflowStatus = Status,
        };
        if (start is not null)
        {
            var es = start.ExecutionStarted;
            s.Name = es.Name;
            if (es.Version is not null)
            {
                s.Version = es.Version;
            }

            s.CreatedTimestamp = start.Timestamp;
            if (es.ScheduledStartTimestamp is not null)
            {
                s.ScheduledStartTimestamp = es.ScheduledStartTimestamp;
            }

            if (es.WorkflowInstance?.ExecutionId is { } exec)
            {
                s.ExecutionId = exec;
            }

            if (es.ParentInstance?.WorkflowInstance?.InstanceId is { Length: > 0 } parent)
            {
                s.ParentInstanceId = parent;
            }

            foreach (var t in es.Tags)
            {
                s.Tags[t.Key] = t.Value;
            }

            if (withInputsAndOutputs && es.Input is not null)
            {
                s.Input = es.Input;
            }
        }

        var last = Record.History.Count > 0 ? Record.History[^1] : Record.Inbox.Count > 0 ? Record.Inbox[^1] : null;
        if (last?.Timestamp is not null)
        {
            s.LastUpdatedTimestamp = last.Timestamp;
        }

        var firstTurn = Record.History.FirstOrDefault(e => e.WorkflowStarted is not null);
        if (Started && firstTurn?.Timestamp is not null)
        {
            s.StartedAt = firstTurn.Timestamp;
        }

        if (Record.History.LastOrDefault(e => e.ExecutionCompleted is not null) is { } done)
        {
            s.CompletedTimestamp = done.Timestamp;
            if (withInputsAndOutputs)
            {
                if (done.ExecutionCompleted.Result is not null)
                {
                    s.Output = done.ExecutionCompleted.Result;
                }

                if (done.ExecutionCompleted.FailureDetails is not null)
                {
                    s.FailureDetails = done.ExecutionCompleted.FailureDetails;
                }
            }
        }

        if (withInputsAndOutputs && Record.CustomStatus is not null)
        {
            s.CustomStatus = Record.CustomStatus;
        }

        return s;
    }
}
