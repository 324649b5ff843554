using Dapr.DurableTask.Protobuf;

namespace FanVote.Sidecar.Workflows;

/// <summary>
/// Messages between instances (child start and completion, sent events, detached starts, recursive termination).
/// They are committed with the sender's turn, delivered afterwards under the receiver's gate only (never two gates at
/// once), and removed from the outbox once delivered. A crash in between delivers them again after the restart; the
/// receiver drops what it already has (same execution id, same task id, already terminating).
/// </summary>
public sealed partial class WorkflowEngine
{
    private void DeliverLater(string id) => _ = Task.Run(() => DeliverOutboxAsync(id), CancellationToken.None);

    private async Task DeliverOutboxAsync(string id)
    {
        if (!_delivering.TryAdd(id, 0))
        {
            _delivering[id] = 1; // the running delivery looks again before it stops
            return;
        }

        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                var pending = await WithInstanceAsync(id, inst => Task.FromResult(inst.Record.Outbox), CancellationToken.None);
                if (pending.Count > 0)
                {
                    foreach (var m in pending)
                    {
                        await DeliverAsync(m);
                    }

                    await WithInstanceAsync(id, async inst =>
                    {
                        var left = inst.Record.Outbox.Where(m => !pending.Any(p => ReferenceEquals(p, m))).ToList();
                        await CommitAsync(inst, inst.Record with { Outbox = left });
                        if (left.Count == 0 && inst.IsTerminal)
                        {
                            Finished(id);
                        }

                        return 0;
                    }, CancellationToken.None);
                    delay = TimeSpan.FromMilliseconds(200);
                    continue;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                WorkflowLog.DeliveryFailed(log, e, id);
                await Task.Delay(delay, time);
                delay = delay * 2 > TimeSpan.FromSeconds(15) ? TimeSpan.FromSeconds(15) : delay * 2;
                continue;
            }

            // Nothing left: stop, unless a commit asked for another look meanwhile.
            if (_delivering.TryRemove(new KeyValuePair<string, byte>(id, 0)))
            {
                return;
            }

            _delivering[id] = 0;
        }
    }

    /// <summary>Delivers one message to its receiver; a refused child start is answered to the parent right away.</summary>
    private async Task DeliverAsync(WorkflowMessage m)
    {
        var target = m.Instance.InstanceId;
        var reply = await WithInstanceAsync(target, async inst =>
        {
            var e = m.Event;
            switch (e.EventTypeCase)
            {
                case HistoryEvent.EventTypeOneofCase.ExecutionStarted:
                    return await DeliverStartAsync(inst, e);
                case HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCompleted or HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceFailed:
                    var taskId = e.ChildWorkflowInstanceCompleted?.TaskScheduledId ?? e.ChildWorkflowInstanceFailed.TaskScheduledId;
                    if (!inst.Exists || inst.IsTerminal || (m.Instance.ExecutionId is { Length: > 0 } exec && exec != inst.ExecutionId)
                        || inst.IsResolved(HistoryEvent.EventTypeOneofCase.ChildWorkflowInstanceCreated, taskId))
                    {
                        return null; // parent gone, restarted, or already told
                    }

                    break;
                case HistoryEvent.EventTypeOneofCase.EventRaised:
                    if (!inst.Exists || inst.IsTerminal)
                    {
                        WorkflowLog.EventDropped(log, target, e.EventRaised.Name);
                        return null;
                    }

                    break;
                case HistoryEvent.EventTypeOneofCase.ExecutionTerminated:
                    if (!inst.Exists || inst.IsTerminal || inst.HasTerminateRequest)
                    {
                        return null;
                    }

                    DropTurn(inst);
                    break;
                default:
                    return null;
            }

            await CommitAsync(inst, inst.Record with { Inbox = [.. inst.Record.Inbox, e] });
            await ScheduleAsync(inst);
            return (WorkflowMessage?)null;
        }, CancellationToken.None);
        if (reply is not null)
        {
            await DeliverAsync(reply);
        }
    }

    /// <summary>Creates a child or detached instance; an id taken by another running instance fails the parent's task.</summary>
    private async Task<WorkflowMessage?> DeliverStartAsync(InstanceState inst, HistoryEvent e)
    {
        var es = e.ExecutionStarted;
        var exec = es.WorkflowInstance.ExecutionId;
        if (inst.Exists && inst.ExecutionId == exec)
        {
            return null; // delivered before
        }

        if (inst.Exists && !inst.IsTerminal)
        {
            WorkflowLog.StartRefused(log, inst.Id, es.Name);
            return es.ParentInstance?.WorkflowInstance is { } parent
                ? new WorkflowMessage
                {
                    Instance = new WorkflowInstance { InstanceId = parent.InstanceId, ExecutionId = parent.ExecutionId },
                    Event = new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = NowStamp,
                        ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
                        {
                            TaskScheduledId = es.ParentInstance.TaskScheduledId,
                            FailureDetails = Failure("WorkflowAlreadyExists", $"an active workflow with ID '{inst.Id}' already exists", nonRetriable: true),
                        },
                    },
                }
                : null;
        }

        CancelActivities(inst.Id);
        var started = e.Clone();
        started.Timestamp = NowStamp;
        await CommitAsync(inst, new InstanceRecord([], [started], null, inst.Exists ? inst.Record.Generation + 1 : 1, inst.Record.Outbox));
        WorkflowLog.Created(log, inst.Id, es.Name);
        await ScheduleAsync(inst);
        return null;
    }
}
