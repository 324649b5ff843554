using Dapr.DurableTask.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace FanVote.Sidecar.Workflows;

/// <summary>Applying a worker's answer to a turn (docs/workflow-engine.md §4.4, durabletask-go's applier).</summary>
public sealed partial class WorkflowEngine
{
    private const string NotSupportedError = "FanVote.LocalSidecar.NotSupported";

    /// <summary>
    /// Appends the turn's events and the actions' events to history, builds the next inbox and outbox, commits all of
    /// it in one transaction, then dispatches the new activities, arms the new timers and delivers the messages.
    /// Held: the instance's gate.
    /// </summary>
    private async Task ApplyTurnAsync(InstanceState inst, InFlightTurn turn, WorkflowResponse response)
    {
        var now = NowStamp;
        var record = inst.Record;
        var actions = response.Actions.ToList();
        var terminate = turn.NewEvents.FirstOrDefault(e => e.ExecutionTerminated is not null)?.ExecutionTerminated;
        if (terminate is not null)
        {
            // A termination must not be lost to a continue-as-new in the same batch.
            actions.RemoveAll(a => a.CompleteWorkflow?.WorkflowStatus == OrchestrationStatus.ContinuedAsNew);
        }

        if (actions.FirstOrDefault(a => a.CompleteWorkflow?.WorkflowStatus == OrchestrationStatus.Stalled || a.WorkflowVersionNotAvailable is not null) is { } stall
            && terminate is null)
        {
            await StallAsync(inst, stall);
            return;
        }

        // The turn's events, with the version the worker reports copied into its WorkflowStarted (IsPatched replays).
        var newEvents = turn.NewEvents.ToList();
        if (response.Version is { } version && newEvents.Count > 0 && newEvents[0].WorkflowStarted is not null)
        {
            var started = newEvents[0].Clone();
            started.WorkflowStarted.Version = version;
            newEvents[0] = started;
        }

        var history = new List<HistoryEvent>(record.History);
        history.AddRange(newEvents);
        var rest = record.Inbox.Skip(turn.InboxCount).ToList();
        var local = new List<HistoryEvent>(); // answers the sidecar gives at once (unsupported features)
        var outbox = new List<WorkflowMessage>(record.Outbox);
        var scheduled = new List<HistoryEvent>();
        var timers = new List<HistoryEvent>();
        var start = history.LastOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted;
        var executionId = start?.WorkflowInstance?.ExecutionId ?? inst.Id;
        var completed = false;
        CompleteWorkflowAction? continueAsNew = null;

        foreach (var a in actions)
        {
            var crossApp = CrossAppTarget(a);
            switch (a.WorkflowActionTypeCase)
            {
                case WorkflowAction.WorkflowActionTypeOneofCase.CompleteWorkflow when completed:
                    break; // a completion already applied in this turn wins
                case WorkflowAction.WorkflowActionTypeOneofCase.CompleteWorkflow when a.CompleteWorkflow.WorkflowStatus == OrchestrationStatus.ContinuedAsNew:
                    continueAsNew = a.CompleteWorkflow;
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.CompleteWorkflow:
                    Complete(history, outbox, start, a.Id, a.CompleteWorkflow.WorkflowStatus, a.CompleteWorkflow.Result, a.CompleteWorkflow.FailureDetails, inst, terminate, now);
                    completed = true;
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateTimer:
                    var ct = a.CreateTimer;
                    var created = new TimerCreatedEvent { FireAt = ct.FireAt, Name = ct.Name };
                    switch (ct.OriginCase)
                    {
                        case CreateTimerAction.OriginOneofCase.CreateTimer: created.CreateTimer = ct.CreateTimer; break;
                        case CreateTimerAction.OriginOneofCase.ExternalEvent: created.ExternalEvent = ct.ExternalEvent; break;
                        case CreateTimerAction.OriginOneofCase.ActivityRetry: created.ActivityRetry = ct.ActivityRetry; break;
                        case CreateTimerAction.OriginOneofCase.ChildWorkflowRetry: created.ChildWorkflowRetry = ct.ChildWorkflowRetry; break;
                        default: break;
                    }

                    var timerEvent = new HistoryEvent { EventId = a.Id, Timestamp = now, TimerCreated = created };
                    history.Add(timerEvent);
                    timers.Add(timerEvent);
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.ScheduleTask:
                    var st = a.ScheduleTask;
                    var task = new HistoryEvent
                    {
                        EventId = a.Id,
                        Timestamp = now,
                        TaskScheduled = new TaskScheduledEvent
                        {
                            Name = st.Name,
                            Version = st.Version,
                            Input = st.Input,
                            TaskExecutionId = st.TaskExecutionId,
                            HistoryPropagationScope = st.HistoryPropagationScope,
                        },
                    };
                    history.Add(task);
                    if (Unsupported(crossApp ?? CrossApp(st.Router), st.HistoryPropagationScope, $"activity '{st.Name}'") is { } why)
                    {
                        local.Add(new HistoryEvent { EventId = -1, Timestamp = now, TaskFailed = new TaskFailedEvent { TaskScheduledId = a.Id, TaskExecutionId = st.TaskExecutionId, FailureDetails = why } });
                    }
                    else
                    {
                        scheduled.Add(task);
                    }

                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateChildWorkflow:
                    var cw = a.CreateChildWorkflow;
                    var childId = cw.InstanceId is { Length: > 0 } cid ? cid : $"{inst.Id}:{a.Id:x4}";
                    history.Add(new HistoryEvent
                    {
                        EventId = a.Id,
                        Timestamp = now,
                        ChildWorkflowInstanceCreated = new ChildWorkflowInstanceCreatedEvent
                        {
                            InstanceId = childId,
                            Name = cw.Name,
                            Version = cw.Version,
                            Input = cw.Input,
                            HistoryPropagationScope = cw.HistoryPropagationScope,
                        },
                    });
                    var childProblem = Unsupported(crossApp ?? CrossApp(cw.Router), cw.HistoryPropagationScope, $"child workflow '{cw.Name}'")
                        ?? (childId == inst.Id || childId.Contains("||", StringComparison.Ordinal)
                            ? Failure("InvalidInstanceId", $"a child workflow cannot have the instance id '{childId}'", nonRetriable: true)
                            : null);
                    if (childProblem is not null)
                    {
                        local.Add(new HistoryEvent { EventId = -1, Timestamp = now, ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent { TaskScheduledId = a.Id, FailureDetails = childProblem } });
                        break;
                    }

                    var childStart = new ExecutionStartedEvent
                    {
                        Name = cw.Name,
                        Version = cw.Version,
                        Input = cw.Input,
                        WorkflowInstance = new WorkflowInstance { InstanceId = childId, ExecutionId = Guid.NewGuid().ToString() },
                        ParentInstance = new ParentInstanceInfo
                        {
                            TaskScheduledId = a.Id,
                            Name = start?.Name,
                            WorkflowInstance = new WorkflowInstance { InstanceId = inst.Id, ExecutionId = executionId },
                            AppID = options.AppId,
                        },
                    };
                    outbox.Add(new WorkflowMessage { Instance = new WorkflowInstance { InstanceId = childId }, Event = new HistoryEvent { EventId = -1, Timestamp = now, Router = OwnRouter, ExecutionStarted = childStart } });
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateDetachedWorkflow:
                    var dw = a.CreateDetachedWorkflow;
                    history.Add(new HistoryEvent { EventId = a.Id, Timestamp = now, DetachedWorkflowInstanceCreated = new DetachedWorkflowInstanceCreatedEvent { InstanceId = dw.InstanceId } });
                    if ((crossApp ?? CrossApp(dw.Router)) is { } target)
                    {
                        WorkflowLog.Unsupported(log, inst.Id, $"detached workflow '{dw.Name}' on app '{target}' (cross-app routing) was not created");
                        break;
                    }

                    var detached = new ExecutionStartedEvent
                    {
                        Name = dw.Name,
                        Version = dw.Version,
                        Input = dw.Input,
                        ScheduledStartTimestamp = dw.ScheduledStartTimestamp,
                        ParentTraceContext = dw.ParentTraceContext,
                        WorkflowInstance = new WorkflowInstance { InstanceId = dw.InstanceId, ExecutionId = dw.ExecutionId is { Length: > 0 } x ? x : Guid.NewGuid().ToString() },
                    };
                    detached.Tags.Add(dw.Tags);
                    outbox.Add(new WorkflowMessage { Instance = new WorkflowInstance { InstanceId = dw.InstanceId }, Event = new HistoryEvent { EventId = -1, Timestamp = now, Router = OwnRouter, ExecutionStarted = detached } });
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.SendEvent:
                    var se = a.SendEvent;
                    history.Add(new HistoryEvent { EventId = a.Id, Timestamp = now, EventSent = new EventSentEvent { InstanceId = se.Instance.InstanceId, Name = se.Name, Input = se.Data } });
                    if (crossApp is { } eventTarget)
                    {
                        WorkflowLog.Unsupported(log, inst.Id, $"event '{se.Name}' to app '{eventTarget}' (cross-app routing) was not sent");
                        break;
                    }

                    outbox.Add(new WorkflowMessage
                    {
                        Instance = new WorkflowInstance { InstanceId = se.Instance.InstanceId },
                        Event = new HistoryEvent { EventId = -1, Timestamp = now, EventRaised = new EventRaisedEvent { Name = se.Name, Input = se.Data } },
                    });
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.TerminateWorkflow:
                    var tw = a.TerminateWorkflow;
                    outbox.Add(new WorkflowMessage
                    {
                        Instance = new WorkflowInstance { InstanceId = tw.InstanceId },
                        Event = new HistoryEvent { EventId = -1, Timestamp = now, ExecutionTerminated = new ExecutionTerminatedEvent { Input = tw.Reason, Recurse = tw.Recurse } },
                    });
                    break;
                default:
                    WorkflowLog.Unsupported(log, inst.Id, $"unknown workflow action {a.WorkflowActionTypeCase} was ignored");
                    break;
            }

            if (continueAsNew is not null)
            {
                break; // the rest of the actions belong to the execution being replaced
            }
        }

        if (terminate is not null && !completed)
        {
            // The worker did not honour the termination; it is consumed with this turn, so enforce it (durabletask-go).
            Complete(history, outbox, start, -1, OrchestrationStatus.Terminated, terminate.Input, null, inst, terminate, now);
            completed = true;
        }

        InstanceRecord next;
        if (completed)
        {
            next = new InstanceRecord(history, [], response.CustomStatus, record.Generation, outbox);
        }
        else if (continueAsNew is not null)
        {
            var restarted = new ExecutionStartedEvent
            {
                Name = start?.Name ?? "",
                Version = continueAsNew.NewVersion ?? start?.Version,
                Input = continueAsNew.Result,
                WorkflowInstance = new WorkflowInstance { InstanceId = inst.Id, ExecutionId = Guid.NewGuid().ToString() },
                ParentInstance = start?.ParentInstance,
            };
            if (start is not null)
            {
                restarted.Tags.Add(start.Tags);
            }

            List<HistoryEvent> inbox = [new HistoryEvent { EventId = -1, Timestamp = now, Router = OwnRouter, ExecutionStarted = restarted }, .. continueAsNew.CarryoverEvents, .. rest];
            next = new InstanceRecord([], inbox, response.CustomStatus, record.Generation + 1, outbox);
        }
        else
        {
            next = new InstanceRecord(history, [.. rest, .. local], response.CustomStatus, record.Generation, outbox);
        }

        await CommitAsync(inst, next);
        if (completed || continueAsNew is not null)
        {
            CancelActivities(inst.Id);
        }

        if (completed)
        {
            WorkflowLog.Completed(log, inst.Id, inst.Status);
        }
        else if (continueAsNew is null && inst.ExecutionId is { } exec)
        {
            foreach (var t in scheduled)
            {
                RegisterActivity(inst.Id, exec, t);
            }

            foreach (var t in timers.Where(t => !InstanceState.NeverFires.Equals(t.TimerCreated.FireAt)))
            {
                Timers.Arm(new WorkflowTimer(inst.Id, exec, t.EventId, t.TimerCreated.FireAt.ToDateTimeOffset()));
            }
        }

        if (next.Outbox.Count > 0)
        {
            DeliverLater(inst.Id);
        }
        else if (completed)
        {
            Finished(inst.Id);
        }

        await ScheduleAsync(inst);
    }

    /// <summary>`executionCompleted`, plus the message to a parent and, for a recursive termination, to the children.</summary>
    private static void Complete(
        List<HistoryEvent> history, List<WorkflowMessage> outbox, ExecutionStartedEvent? start, int actionId, OrchestrationStatus status,
        string? result, TaskFailureDetails? failure, InstanceState inst, ExecutionTerminatedEvent? terminate, Timestamp now)
    {
        history.Add(new HistoryEvent
        {
            EventId = actionId,
            Timestamp = now,
            ExecutionCompleted = new ExecutionCompletedEvent { WorkflowStatus = status, Result = result, FailureDetails = failure },
        });
        if (start?.ParentInstance?.WorkflowInstance is { } parent)
        {
            var e = new HistoryEvent { EventId = -1, Timestamp = now };
            if (status == OrchestrationStatus.Completed)
            {
                e.ChildWorkflowInstanceCompleted = new ChildWorkflowInstanceCompletedEvent { TaskScheduledId = start.ParentInstance.TaskScheduledId, Result = result };
            }
            else
            {
                e.ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
                {
                    TaskScheduledId = start.ParentInstance.TaskScheduledId,
                    FailureDetails = failure ?? Failure("WorkflowTerminated", $"child workflow '{inst.Id}' ended with status {status}", nonRetriable: true),
                };
            }

            outbox.Add(new WorkflowMessage { Instance = new WorkflowInstance { InstanceId = parent.InstanceId, ExecutionId = parent.ExecutionId }, Event = e });
        }

        if (status == OrchestrationStatus.Terminated && terminate is { Recurse: true })
        {
            var resolved = history.Select(InstanceState.ResolutionOf).Where(r => r?.Kind == HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCreated).Select(r => r!.Value.Id).ToHashSet();
            foreach (var child in history.Where(h => h.ChildWorkflowInstanceCreated is not null && !resolved.Contains(h.EventId)))
            {
                outbox.Add(new WorkflowMessage
                {
                    Instance = new WorkflowInstance { InstanceId = child.ChildWorkflowInstanceCreated.InstanceId },
                    Event = new HistoryEvent { EventId = -1, Timestamp = now, ExecutionTerminated = new ExecutionTerminatedEvent { Input = terminate.Input, Recurse = true } },
                });
            }
        }
    }

    /// <summary>
    /// A stalled turn (a patch or version this worker cannot replay): its events stay in the inbox, `executionStalled`
    /// is recorded, and the instance waits for a worker to (re)connect, as daprd holds it.
    /// </summary>
    private async Task StallAsync(InstanceState inst, WorkflowAction stall)
    {
        var reason = stall.WorkflowVersionNotAvailable is not null ? StalledReason.VersionNotAvailable : StalledReason.PatchMismatch;
        var description = stall.CompleteWorkflow?.Details ?? (reason == StalledReason.VersionNotAvailable ? "the workflow version is not available in this worker" : "workflow stalled due to a patch mismatch");
        var last = inst.Record.History.Count > 0 ? inst.Record.History[^1].ExecutionStalled : null;
        if (last is null || last.Description != description)
        {
            var e = new HistoryEvent { EventId = -1, Timestamp = NowStamp, ExecutionStalled = new ExecutionStalledEvent { Reason = reason, Description = description } };
            await CommitAsync(inst, inst.Record with { History = [.. inst.Record.History, e] });
        }

        inst.StallHeld = true;
        WorkflowLog.Stalled(log, inst.Id, description);
    }

    private string? CrossAppTarget(WorkflowAction a) => CrossApp(a.Router);

    private string? CrossApp(TaskRouter? router) =>
        router?.TargetAppID is { Length: > 0 } target && target != options.AppId ? target : null;

    /// <summary>A failure the task gets at once for what the local sidecar does not do (run daprd for it).</summary>
    private static TaskFailureDetails? Unsupported(string? targetApp, HistoryPropagationScope scope, string what) =>
        targetApp is not null
            ? Failure(NotSupportedError, $"{what} targets app '{targetApp}': cross-app workflow routing is not supported by the FanVote local sidecar; run daprd for it", nonRetriable: true)
            : scope != HistoryPropagationScope.None
                ? Failure(NotSupportedError, $"{what} asks for history propagation ({scope}), which the FanVote local sidecar does not support; run daprd for it", nonRetriable: true)
                : null;

    private static TaskFailureDetails Failure(string type, string message, bool nonRetriable) =>
        new() { ErrorType = type, ErrorMessage = message, IsNonRetriable = nonRetriable };
}
