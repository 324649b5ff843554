using System.Collections.Concurrent;
using Dapr.DurableTask.Protobuf;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.Hosting;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FanVote.Sidecar.Workflows;

/// <summary>An activity scheduled by a workflow and not yet answered; re-sent with a new token when its stream ends.</summary>
public sealed class PendingActivity(string instanceId, string executionId, ActivityRequest request)
{
    public string InstanceId { get; } = instanceId;

    public string ExecutionId { get; } = executionId;

    public ActivityRequest Request { get; } = request;

    public (string, string, int) Key => (InstanceId, ExecutionId, Request.TaskId);

    public string Token { get; set; } = "";

    public long? StreamId { get; set; }

    public bool Cancelled { get; set; }
}

/// <summary>
/// The workflow engine of the local sidecar (docs/workflow-engine.md §4): instances persisted in the actor state store,
/// one turn in flight per instance, activities at least once, durable timers derived from history, external events
/// buffered in the inbox, child workflows, continue-as-new, terminate/suspend/resume/purge, and recovery after a
/// crash of the app, the sidecar or both. Cross-instance messages go through a persisted outbox and are
/// de-duplicated by the receiver, so a crash between two instances' commits neither loses nor doubles them
/// (raised events excepted: like daprd, an event can arrive twice, never zero times).
/// </summary>
public sealed partial class WorkflowEngine(ComponentRegistry registry, SidecarOptions options, SidecarMetadata metadata, TimeProvider time, ILogger<WorkflowEngine> log)
{
    private const int FinishedCacheSize = 1000;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, InstanceState> _instances = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingActivity> _activities = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string, int), PendingActivity> _activityKeys = new();
    private readonly ConcurrentDictionary<string, byte> _waitingTurns = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string, int), PendingActivity> _waitingActivities = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _changes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _delivering = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _finished = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WorkflowStore? _store;

    public WorkItemStreams Streams { get; } = new();

    public WorkflowTimers Timers { get; } = new(time);

    public string AppId => options.AppId;

    public Task Ready => _ready.Task;

    private WorkflowStore Store => _store ?? throw Unavailable("the workflow engine is not started");

    private DateTimeOffset Now => time.GetUtcNow();

    private Timestamp NowStamp => Timestamp.FromDateTimeOffset(Now);

    /// <summary>
    /// Start-up recovery (§4.7): loads every unfinished instance, re-arms its timers, queues its unanswered
    /// activities and pending turn, re-sends undelivered outbox messages. Work waits for a worker to connect.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        metadata.ConnectedWorkflowWorkers = () => Streams.Count;
        if (registry.ActorStateStore is not { } store)
        {
            WorkflowLog.Disabled(log);
            _ready.TrySetException(Unavailable("workflows need an actor state store: add actorStateStore: \"true\" to one state component (state.redis, state.postgresql or state.in-memory)"));
            return;
        }

        _store = new WorkflowStore(store, options.AppId);
        IReadOnlyList<string> ids;
        for (var delay = TimeSpan.FromMilliseconds(500); ; delay = delay * 2 > TimeSpan.FromSeconds(15) ? TimeSpan.FromSeconds(15) : delay * 2)
        {
            try
            {
                // The store may come up after the sidecar: calls wait (Ready) until recovery is done.
                ids = await Store.LoadActiveAsync(ct);
                foreach (var id in ids)
                {
                    await WithInstanceAsync(id, inst =>
                    {
                        if (!inst.Exists)
                        {
                            _ = RemoveActiveAsync(id);
                        }

                        return Task.FromResult(0);
                    }, ct, waitReady: false);
                }

                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                WorkflowLog.RecoveryFailed(log, e);
                foreach (var inst in _instances.Values)
                {
                    inst.Loaded = false;
                }

                await Task.Delay(delay, time, ct);
            }
        }

        WorkflowLog.Recovered(log, ids.Count, Store.ActorType);
        _ready.TrySetResult();
    }

    // ---------------------------------------------------------------- client RPCs

    public async Task<string> StartInstanceAsync(CreateInstanceRequest request, CancellationToken ct)
    {
        var id = request.InstanceId;
        ValidateId(id);
        if (string.IsNullOrEmpty(request.Name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a workflow name is required"));
        }

        var start = new HistoryEvent
        {
            EventId = -1,
            Timestamp = NowStamp,
            Router = OwnRouter,
            ExecutionStarted = new ExecutionStartedEvent
            {
                Name = request.Name,
                Version = request.Version,
                Input = request.Input,
                WorkflowInstance = new WorkflowInstance { InstanceId = id, ExecutionId = request.ExecutionId ?? Guid.NewGuid().ToString() },
                ScheduledStartTimestamp = request.ScheduledStartTimestamp,
                ParentTraceContext = request.ParentTraceContext,
            },
        };
        start.ExecutionStarted.Tags.Add(request.Tags);
        await WithInstanceAsync(id, async inst =>
        {
            if (inst.Exists && !inst.IsTerminal)
            {
                throw new RpcException(new Status(StatusCode.AlreadyExists, $"an active workflow with ID '{id}' already exists"));
            }

            // A finished instance is reset and created again (daprd's semantics); its undelivered messages stay.
            var next = new InstanceRecord([], [start], null, inst.Exists ? inst.Record.Generation + 1 : 1, inst.Record.Outbox);
            CancelActivities(id);
            await CommitAsync(inst, next);
            WorkflowLog.Created(log, id, request.Name);
            await ScheduleAsync(inst);
            return 0;
        }, ct);

        if (request.ScheduledStartTimestamp is null)
        {
            // daprd answers once the first turn has run.
            await WaitAsync(id, i => i.Status != OrchestrationStatus.Pending, false, ct);
        }

        return id;
    }

    public Task<GetInstanceResponse> GetInstanceAsync(string id, bool withInputsAndOutputs, CancellationToken ct) =>
        WithInstanceAsync(id, inst => Task.FromResult(Response(inst, withInputsAndOutputs)), ct);

    public Task<GetInstanceResponse> WaitForStartAsync(string id, bool io, CancellationToken ct) =>
        WaitAsync(id, i => i.Status != OrchestrationStatus.Pending, io, ct);

    public Task<GetInstanceResponse> WaitForCompletionAsync(string id, bool io, CancellationToken ct) =>
        WaitAsync(id, i => i.IsTerminal, io, ct);

    public async Task RaiseEventAsync(RaiseEventRequest request, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.Name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "an event name is required"));
        }

        await WithInstanceAsync(request.InstanceId, async inst =>
        {
            RequireExists(inst);
            if (inst.IsTerminal)
            {
                return 0; // accepted and dropped, as daprd
            }

            if (inst.IsStalled)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"workflow instance '{inst.Id}' is stalled and accepts no events until a worker that can run its version connects"));
            }

            var e = new HistoryEvent { EventId = -1, Timestamp = NowStamp, EventRaised = new EventRaisedEvent { Name = request.Name, Input = request.Input } };
            await CommitAsync(inst, inst.Record with { Inbox = [.. inst.Record.Inbox, e] });
            await ScheduleAsync(inst);
            return 0;
        }, ct);
    }

    public async Task TerminateAsync(TerminateRequest request, CancellationToken ct)
    {
        await WithInstanceAsync(request.InstanceId, async inst =>
        {
            RequireExists(inst);
            if (inst.IsTerminal)
            {
                return 0;
            }

            if (!inst.HasTerminateRequest)
            {
                var e = new HistoryEvent
                {
                    EventId = -1,
                    Timestamp = NowStamp,
                    ExecutionTerminated = new ExecutionTerminatedEvent { Input = request.Output, Recurse = request.Recursive },
                };
                await CommitAsync(inst, inst.Record with { Inbox = [.. inst.Record.Inbox, e] });
            }

            // A turn still with the app is abandoned: its answer would come too late (stale token).
            DropTurn(inst);
            await ScheduleAsync(inst);
            return 0;
        }, ct);
        await WaitAsync(request.InstanceId, i => i.IsTerminal, false, ct);
    }

    public Task SuspendAsync(string id, string? reason, CancellationToken ct) =>
        AddControlEventAsync(id, new HistoryEvent { EventId = -1, Timestamp = NowStamp, ExecutionSuspended = new ExecutionSuspendedEvent { Input = Reason(reason) } }, ct);

    public Task ResumeAsync(string id, string? reason, CancellationToken ct) =>
        AddControlEventAsync(id, new HistoryEvent { EventId = -1, Timestamp = NowStamp, ExecutionResumed = new ExecutionResumedEvent { Input = Reason(reason) } }, ct);

    public async Task<int> PurgeAsync(PurgeInstancesRequest request, CancellationToken ct)
    {
        if (request.RequestCase == PurgeInstancesRequest.RequestOneofCase.PurgeInstanceFilter)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "purging by filter is not supported by the FanVote local sidecar: purge by instance id (run daprd for filtered purges)"));
        }

        return await PurgeOneAsync(request.InstanceId, request.Recursive, request.Force, ct);
    }

    public async Task<ListInstanceIDsResponse> ListAsync(ListInstanceIDsRequest request, CancellationToken ct)
    {
        await Ready.WaitAsync(ct);
        var limit = request.HasPageSize && request.PageSize > 0 ? (int)Math.Min(request.PageSize, 100_000) : 100_000;
        var ids = await Store.ListAsync(request.HasContinuationToken && request.ContinuationToken.Length > 0 ? request.ContinuationToken : null, limit + 1, ct);
        var r = new ListInstanceIDsResponse();
        r.InstanceIds.AddRange(ids.Take(limit));
        if (ids.Count > limit)
        {
            r.ContinuationToken = ids[limit - 1];
        }

        return r;
    }

    public Task<GetInstanceHistoryResponse> HistoryAsync(string id, CancellationToken ct) =>
        WithInstanceAsync(id, inst =>
        {
            RequireExists(inst);
            var r = new GetInstanceHistoryResponse();
            r.Events.AddRange(inst.Record.History);
            return Task.FromResult(r);
        }, ct);

    // ---------------------------------------------------------------- worker RPCs

    /// <summary>Serves one `GetWorkItems` stream until the worker goes away; its open work is then handed out again.</summary>
    public async Task ServeStreamAsync(GetWorkItemsRequest request, IServerStreamWriter<WorkItem> writer, CancellationToken ct)
    {
        await Ready.WaitAsync(ct);
        var stream = Streams.Open(request.Capabilities.Contains(WorkerCapability.HealthPing));
        WorkflowLog.WorkerConnected(log, stream.Id, Streams.Count);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pings = stream.HealthPings ? PingAsync(stream, stop.Token) : Task.CompletedTask;
        _ = Task.Run(() => OnStreamOpenedAsync(), CancellationToken.None);
        try
        {
            await foreach (var item in stream.Reader.ReadAllAsync(ct))
            {
                await writer.WriteAsync(item, ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // the worker went away
        }
        finally
        {
            await stop.CancelAsync();
            var open = Streams.Close(stream);
            WorkflowLog.WorkerDisconnected(log, stream.Id, open.Count);
            _ = Task.Run(() => OnStreamClosedAsync(stream, open), CancellationToken.None);
            await pings;
        }
    }

    public async Task CompleteTurnAsync(WorkflowResponse response)
    {
        await WithInstanceAsync(response.InstanceId, async inst =>
        {
            if (inst.Turn is not { } turn || turn.Token != response.CompletionToken)
            {
                WorkflowLog.StaleCompletion(log, "turn", response.InstanceId);
                return 0;
            }

            DropTurn(inst);
            try
            {
                await ApplyTurnAsync(inst, turn, response);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Not committed (the store failed): the turn is given again once the instance can be reloaded.
                WorkflowLog.CommitFailed(log, e, inst.Id);
                inst.Loaded = false;
                _ = RetryLaterAsync(inst.Id);
            }

            return 0;
        }, CancellationToken.None);
    }

    public async Task CompleteActivityAsync(ActivityResponse response)
    {
        if (!_activities.TryGetValue(response.CompletionToken, out var pa) || pa.InstanceId != response.InstanceId || pa.Request.TaskId != response.TaskId)
        {
            WorkflowLog.StaleCompletion(log, "activity", response.InstanceId);
            return;
        }

        await WithInstanceAsync(pa.InstanceId, async inst =>
        {
            if (inst.IsTerminal || inst.ExecutionId != pa.ExecutionId || inst.IsResolved(HistoryEvent.EventTypeOneofCase.TaskScheduled, pa.Request.TaskId))
            {
                ForgetActivity(pa);
                return 0;
            }

            var e = new HistoryEvent { EventId = -1, Timestamp = NowStamp };
            if (response.FailureDetails is { } f)
            {
                e.TaskFailed = new TaskFailedEvent { TaskScheduledId = response.TaskId, FailureDetails = f, TaskExecutionId = pa.Request.TaskExecutionId };
            }
            else
            {
                e.TaskCompleted = new TaskCompletedEvent { TaskScheduledId = response.TaskId, Result = response.Result, TaskExecutionId = pa.Request.TaskExecutionId };
            }

            await CommitAsync(inst, inst.Record with { Inbox = [.. inst.Record.Inbox, e] });
            ForgetActivity(pa);
            await ScheduleAsync(inst);
            return 0;
        }, CancellationToken.None);
    }

    /// <summary>Fires one due timer: `timerFired` into the inbox (or, for a deferred start, just a turn).</summary>
    public async Task FireTimerAsync(WorkflowTimer timer)
    {
        try
        {
            await WithInstanceAsync(timer.InstanceId, async inst =>
            {
                if (!inst.Exists || inst.IsTerminal || inst.ExecutionId != timer.ExecutionId)
                {
                    return 0;
                }

                if (timer.TimerId >= 0 && !inst.IsResolved(HistoryEvent.EventTypeOneofCase.TimerCreated, timer.TimerId))
                {
                    var e = new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = NowStamp,
                        TimerFired = new TimerFiredEvent { TimerId = timer.TimerId, FireAt = Timestamp.FromDateTimeOffset(timer.FireAt) },
                    };
                    await CommitAsync(inst, inst.Record with { Inbox = [.. inst.Record.Inbox, e] });
                }

                await ScheduleAsync(inst);
                return 0;
            }, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            WorkflowLog.CommitFailed(log, e, timer.InstanceId);
            Timers.Arm(timer with { FireAt = Now + RetryDelay });
        }
    }

    // ---------------------------------------------------------------- instances

    /// <summary>
    /// Runs <paramref name="body"/> holding the instance's gate, loading it on first use (and then re-arming what
    /// its history says is pending). Instances that do not exist are not kept in memory.
    /// </summary>
    private async Task<T> WithInstanceAsync<T>(string id, Func<InstanceState, Task<T>> body, CancellationToken ct, bool waitReady = true)
    {
        if (waitReady)
        {
            await Ready.WaitAsync(ct);
        }

        if (string.IsNullOrEmpty(id))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "an instance id is required"));
        }

        while (true)
        {
            var inst = _instances.GetOrAdd(id, k => new InstanceState(k));
            await inst.Gate.WaitAsync(ct);
            try
            {
                if (inst.Evicted)
                {
                    continue;
                }

                if (!inst.Loaded)
                {
                    inst.Record = await Store.LoadAsync(id, CancellationToken.None) ?? InstanceRecord.Empty;
                    inst.Loaded = true;
                    inst.Turn = null;
                    await RearmAsync(inst);
                }

                return await body(inst);
            }
            finally
            {
                if (inst.Loaded && !inst.Exists && inst.Turn is null)
                {
                    inst.Evicted = true;
                    _instances.TryRemove(new KeyValuePair<string, InstanceState>(id, inst));
                }

                inst.Gate.Release();
            }
        }
    }

    /// <summary>What a freshly loaded instance's history says is pending: activities, timers, a turn, messages.</summary>
    private async Task RearmAsync(InstanceState inst)
    {
        if (!inst.Exists)
        {
            return;
        }

        inst.StallHeld = inst.IsStalled;
        if (!inst.IsTerminal && inst.ExecutionId is { } exec)
        {
            foreach (var t in inst.UnresolvedTasks())
            {
                RegisterActivity(inst.Id, exec, t);
            }

            foreach (var t in inst.UnfiredTimers())
            {
                Timers.Arm(new WorkflowTimer(inst.Id, exec, t.EventId, t.TimerCreated.FireAt.ToDateTimeOffset()));
            }

            await ScheduleAsync(inst);
        }

        if (inst.Record.Outbox.Count > 0)
        {
            DeliverLater(inst.Id);
        }
        else if (inst.IsTerminal)
        {
            Finished(inst.Id);
        }
    }

    private async Task CommitAsync(InstanceState inst, InstanceRecord next)
    {
        var nextTerminal = next.History.Any(e => e.ExecutionCompleted is not null);
        if (!nextTerminal && (!inst.Exists || inst.IsTerminal))
        {
            await Store.AddActiveAsync(inst.Id, CancellationToken.None);
        }

        try
        {
            await Store.SaveAsync(inst.Id, inst.Record, next, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store's state is unknown now (a Redis script may have run): read it again on next use.
            inst.Loaded = false;
            DropTurn(inst);
            throw Unavailable($"the actor state store failed to save workflow {inst.Id}: {e.Message}");
        }

        inst.Record = next;
        Notify(inst.Id);
    }

    private void Notify(string id)
    {
        if (_changes.TryRemove(id, out var tcs))
        {
            tcs.TrySetResult();
        }
    }

    private async Task<GetInstanceResponse> WaitAsync(string id, Func<InstanceState, bool> done, bool io, CancellationToken ct)
    {
        while (true)
        {
            var signal = _changes.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var (finished, response) = await WithInstanceAsync(id, inst =>
                Task.FromResult(!inst.Exists ? (true, new GetInstanceResponse { Exists = false }) : (done(inst), Response(inst, io))), ct);
            if (finished)
            {
                return response;
            }

            await signal.Task.WaitAsync(ct);
        }
    }

    private static GetInstanceResponse Response(InstanceState inst, bool io) =>
        inst.Exists ? new GetInstanceResponse { Exists = true, WorkflowState = inst.ToState(io) } : new GetInstanceResponse { Exists = false };

    private async Task AddControlEventAsync(string id, HistoryEvent e, CancellationToken ct) =>
        await WithInstanceAsync(id, async inst =>
        {
            RequireExists(inst);
            if (inst.IsTerminal)
            {
                return 0;
            }

            await CommitAsync(inst, inst.Record with { Inbox = [.. inst.Record.Inbox, e] });
            await ScheduleAsync(inst);
            return 0;
        }, ct);

    private async Task<int> PurgeOneAsync(string id, bool recursive, bool force, CancellationToken ct)
    {
        var children = await WithInstanceAsync(id, async inst =>
        {
            if (!inst.Exists)
            {
                return (IReadOnlyList<string>?)null;
            }

            if (!inst.IsTerminal && !force)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"workflow instance '{id}' is {inst.Status.ToString().ToUpperInvariant()}: only a completed, failed or terminated instance can be purged (terminate it first)"));
            }

            IReadOnlyList<string> kids = recursive ? [.. inst.Children()] : [];
            try
            {
                await Store.DeleteAsync(id, inst.Record, CancellationToken.None);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                inst.Loaded = false;
                throw Unavailable($"the actor state store failed to purge workflow {id}: {e.Message}");
            }

            DropTurn(inst);
            CancelActivities(id);
            inst.Record = InstanceRecord.Empty;
            await RemoveActiveAsync(id);
            Notify(id);
            return kids;
        }, ct);
        if (children is null)
        {
            return 0;
        }

        var count = 1;
        foreach (var child in children)
        {
            var terminal = await WithInstanceAsync(child, i => Task.FromResult(i.Exists && (i.IsTerminal || force)), ct);
            if (terminal)
            {
                count += await PurgeOneAsync(child, recursive, force, ct);
            }
        }

        return count;
    }

    // ---------------------------------------------------------------- turns

    /// <summary>Gives the instance its next turn if it is runnable: to a worker, or handled here for a termination.</summary>
    private async Task ScheduleAsync(InstanceState inst)
    {
        var now = Now;
        if (inst.IsTerminal || inst.Turn is not null || inst.Record.Inbox.Count == 0)
        {
            return;
        }

        if (!inst.Runnable(now))
        {
            if (inst.ScheduledStart is { } at && at > now && inst.ExecutionId is { } exec)
            {
                Timers.Arm(new WorkflowTimer(inst.Id, exec, -1, at));
            }

            return;
        }

        var started = new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTimeOffset(now), WorkflowStarted = new WorkflowStartedEvent() };
        IReadOnlyList<HistoryEvent> newEvents = [started, .. inst.Record.Inbox];
        var token = Guid.NewGuid().ToString("N");
        if (inst.HasTerminateRequest)
        {
            // The SDK answers any turn that carries a termination with CompleteWorkflow(TERMINATED); the sidecar gives
            // that answer itself, so a termination needs no worker (and none that hangs).
            var terminate = inst.Record.Inbox.First(e => e.ExecutionTerminated is not null).ExecutionTerminated;
            var answer = new WorkflowResponse { InstanceId = inst.Id, CompletionToken = token, CustomStatus = inst.Record.CustomStatus };
            answer.Actions.Add(new WorkflowAction { Id = -1, CompleteWorkflow = new CompleteWorkflowAction { WorkflowStatus = OrchestrationStatus.Terminated, Result = terminate.Input } });
            await ApplyTurnAsync(inst, new InFlightTurn(token, newEvents, inst.Record.Inbox.Count, 0), answer);
            return;
        }

        var request = new WorkflowRequest { InstanceId = inst.Id, ExecutionId = inst.ExecutionId };
        request.PastEvents.AddRange(inst.Record.History);
        request.NewEvents.AddRange(newEvents);
        var item = new WorkItem { WorkflowRequest = request, CompletionToken = token };
        var stream = Streams.Send(TurnKey(inst.Id), item);
        if (stream is null)
        {
            _waitingTurns[inst.Id] = 0;
            if (Streams.Count > 0)
            {
                _ = Task.Run(() => OnStreamOpenedAsync(), CancellationToken.None);
            }

            return;
        }

        inst.Turn = new InFlightTurn(token, newEvents, inst.Record.Inbox.Count, stream.Id);
    }

    private void DropTurn(InstanceState inst)
    {
        if (inst.Turn is { } t)
        {
            Streams.Find(t.StreamId)?.Done(TurnKey(inst.Id));
            inst.Turn = null;
        }
    }

    private static string TurnKey(string id) => "t:" + id;

    private static string ActivityKey(string token) => "a:" + token;

    private async Task RetryLaterAsync(string id)
    {
        await Task.Delay(RetryDelay, time);
        try
        {
            await WithInstanceAsync(id, async inst =>
            {
                await ScheduleAsync(inst);
                return 0;
            }, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            WorkflowLog.CommitFailed(log, e, id);
            _ = RetryLaterAsync(id);
        }
    }

    // ---------------------------------------------------------------- activities

    private void RegisterActivity(string instanceId, string executionId, HistoryEvent scheduled)
    {
        var ts = scheduled.TaskScheduled;
        var request = new ActivityRequest
        {
            Name = ts.Name,
            Version = ts.Version,
            Input = ts.Input,
            WorkflowInstance = new WorkflowInstance { InstanceId = instanceId, ExecutionId = executionId },
            TaskId = scheduled.EventId,
            TaskExecutionId = ts.TaskExecutionId,
            ParentTraceContext = ts.ParentTraceContext,
        };
        var pa = new PendingActivity(instanceId, executionId, request);
        if (_activityKeys.TryAdd(pa.Key, pa))
        {
            DispatchActivity(pa);
        }
    }

    private void DispatchActivity(PendingActivity pa)
    {
        var waiting = false;
        lock (pa)
        {
            if (pa.Cancelled)
            {
                return;
            }

            if (pa.Token.Length > 0)
            {
                _activities.TryRemove(pa.Token, out _);
            }

            pa.Token = Guid.NewGuid().ToString("N");
            _activities[pa.Token] = pa;
            var stream = Streams.Send(ActivityKey(pa.Token), new WorkItem { ActivityRequest = pa.Request, CompletionToken = pa.Token });
            pa.StreamId = stream?.Id;
            if (stream is null)
            {
                _waitingActivities[pa.Key] = pa;
                waiting = true;
            }
        }

        if (waiting && Streams.Count > 0)
        {
            _ = Task.Run(() => OnStreamOpenedAsync(), CancellationToken.None);
        }
    }

    private void ForgetActivity(PendingActivity pa)
    {
        lock (pa)
        {
            pa.Cancelled = true;
            _activities.TryRemove(pa.Token, out _);
            _activityKeys.TryRemove(new KeyValuePair<(string, string, int), PendingActivity>(pa.Key, pa));
            _waitingActivities.TryRemove(pa.Key, out _);
            if (pa.StreamId is { } s)
            {
                Streams.Find(s)?.Done(ActivityKey(pa.Token));
            }
        }
    }

    private void CancelActivities(string instanceId)
    {
        foreach (var pa in _activityKeys.Values.Where(p => p.InstanceId == instanceId).ToList())
        {
            ForgetActivity(pa);
        }
    }

    // ---------------------------------------------------------------- streams

    private async Task OnStreamOpenedAsync()
    {
        foreach (var inst in _instances.Values.Where(i => i.StallHeld).ToList())
        {
            await SafelyAsync(inst.Id, async i =>
            {
                i.StallHeld = false;
                await ScheduleAsync(i);
            });
        }

        foreach (var id in _waitingTurns.Keys.ToList())
        {
            if (_waitingTurns.TryRemove(id, out _))
            {
                await SafelyAsync(id, ScheduleAsync);
            }
        }

        foreach (var key in _waitingActivities.Keys.ToList())
        {
            if (_waitingActivities.TryRemove(key, out var pa))
            {
                DispatchActivity(pa);
            }
        }
    }

    private async Task OnStreamClosedAsync(WorkerConnection stream, IReadOnlyList<string> open)
    {
        foreach (var key in open)
        {
            if (key.StartsWith("t:", StringComparison.Ordinal))
            {
                await SafelyAsync(key[2..], async inst =>
                {
                    if (inst.Turn?.StreamId == stream.Id)
                    {
                        inst.Turn = null;
                        await ScheduleAsync(inst);
                    }
                });
            }
            else if (_activities.TryGetValue(key[2..], out var pa) && pa.StreamId == stream.Id)
            {
                DispatchActivity(pa);
            }
        }
    }

    private async Task PingAsync(WorkerConnection stream, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(30), time);
            while (await timer.WaitForNextTickAsync(ct))
            {
                stream.TryPing();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SafelyAsync(string id, Func<InstanceState, Task> body)
    {
        try
        {
            await WithInstanceAsync(id, async inst =>
            {
                await body(inst);
                return 0;
            }, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            WorkflowLog.CommitFailed(log, e, id);
            _ = RetryLaterAsync(id);
        }
    }

    // ---------------------------------------------------------------- finishing

    private void Finished(string id)
    {
        _ = RemoveActiveAsync(id);
        _finished.Enqueue(id);
        while (_finished.Count > FinishedCacheSize && _finished.TryDequeue(out var old))
        {
            if (_instances.TryGetValue(old, out var inst) && inst.Gate.Wait(0))
            {
                try
                {
                    if (inst.IsTerminal && inst.Record.Outbox.Count == 0 && inst.Turn is null)
                    {
                        inst.Evicted = true;
                        _instances.TryRemove(new KeyValuePair<string, InstanceState>(old, inst));
                    }
                }
                finally
                {
                    inst.Gate.Release();
                }
            }
        }
    }

    private async Task RemoveActiveAsync(string id)
    {
        try
        {
            await Store.RemoveActiveAsync(id, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Harmless: start-up finds the instance finished and removes it then.
            WorkflowLog.CommitFailed(log, e, id);
        }
    }

    private static void RequireExists(InstanceState inst)
    {
        if (!inst.Exists)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no workflow instance with ID '{inst.Id}' exists"));
        }
    }

    private static void ValidateId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Contains("||", StringComparison.Ordinal) || id.Any(char.IsControl))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"invalid workflow instance id '{id}': it must be non-empty and contain neither '||' nor control characters"));
        }
    }

    private static string? Reason(string? reason) => string.IsNullOrEmpty(reason) ? null : reason;

    /// <summary>daprd marks start events with the app as source; the SDK takes its own app id from it (cross-app calls need it).</summary>
    private TaskRouter OwnRouter => new() { SourceAppID = options.AppId };

    private static RpcException Unavailable(string message) => new(new Status(StatusCode.Unavailable, message));
}
