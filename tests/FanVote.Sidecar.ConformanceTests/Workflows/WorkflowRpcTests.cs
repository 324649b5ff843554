using Dapr.DurableTask.Protobuf;
using Dapr.Workflow;
using Dapr.Workflow.Client;
using FanVote.Sidecar.TestWorkflows;
using Grpc.Core;
using StackExchange.Redis;

namespace FanVote.Sidecar.ConformanceTests.Workflows;

/// <summary>One TestWorkflows app and its sidecar (state.redis as actor store) for the RPC-by-RPC tests.</summary>
public sealed class WorkflowRpcFixture : IAsyncLifetime
{
    public WorkflowRig Rig { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Rig = await WorkflowRig.StartAsync(WorkflowStore.Redis);

    public async ValueTask DisposeAsync() => await Rig.DisposeAsync();
}

/// <summary>
/// Every TaskHubSidecarService RPC Dapr.Workflow 1.19 uses, driven through the real SDK (DaprWorkflowClient in the
/// test, the SDK's worker in the TestWorkflows app) against the local sidecar (docs/workflow-engine.md §2.2, §4.5).
/// </summary>
[Trait("Category", "Conformance")]
public sealed class WorkflowRpcTests(WorkflowRpcFixture fixture) : IClassFixture<WorkflowRpcFixture>
{
    private WorkflowRig Rig => fixture.Rig;

    private static CancellationToken Ct => WorkflowRig.Deadline();

    [Fact]
    public async Task Activities_RunInSequence_OutputCustomStatusAndHistoryRecordEachCompletionOnce()
    {
        var id = Rig.NewId("steps");
        var returned = await Rig.Client.ScheduleNewWorkflowAsync(Names.Steps, id, new StepsInput(Rig.Run, 3, Gated: false), null, Ct);
        Assert.Equal(id, returned);

        var started = await Rig.Client.WaitForWorkflowStartAsync(id, true, Ct);
        Assert.NotEqual(WorkflowRuntimeStatus.Pending, started.RuntimeStatus);
        var done = await Rig.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(60, done.ReadOutputAs<int>());
        Assert.Equal(3, done.ReadInputAs<StepsInput>()!.Steps);
        Assert.Equal(Names.Steps, done.WorkflowName);
        Assert.Contains("\"done\":3", done.ReadCustomStatusAs<System.Text.Json.JsonElement>().GetRawText(), StringComparison.Ordinal);
        var history = await Rig.Client.GetInstanceHistoryAsync(id, Ct);
        Assert.Equal(3, history.Count(e => e.EventType == WorkflowHistoryEventType.TaskScheduled));
        Assert.Equal(3, history.Count(e => e.EventType == WorkflowHistoryEventType.TaskCompleted));
        Assert.Single(history, e => e.EventType == WorkflowHistoryEventType.ExecutionStarted);
        Assert.Single(history, e => e.EventType == WorkflowHistoryEventType.ExecutionCompleted);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(1, await Rig.CountAsync(Names.Done(Rig.Run, id, i)));
        }
    }

    [Fact]
    public async Task GetInstance_UnknownId_DoesNotExist_AndRaiseEventToItIsNotFound()
    {
        var state = await Rig.Client.GetWorkflowStateAsync("no-such-" + Guid.NewGuid().ToString("N"), true, Ct);
        Assert.False(state.Exists);

        var e = await Assert.ThrowsAsync<RpcException>(() => Rig.Client.RaiseEventAsync("no-such-instance", "go", "x", Ct));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task Timer_FiresAndTheWorkflowResumesNoEarlierThanItsTime()
    {
        var id = Rig.NewId("timer");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Timer, id, new TimerInput(1500), null, Ct);
        var created = (await Rig.Client.GetWorkflowStateAsync(id, true, Ct)).CreatedAt;

        var done = await Rig.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.True(done.ReadOutputAs<DateTime>() >= created.UtcDateTime.AddMilliseconds(1500), $"resumed at {done.ReadOutputAs<DateTime>():O}, created {created:O}");
        var raw = await Rig.Raw.GetInstanceHistoryAsync(new GetInstanceHistoryRequest { InstanceId = id }, cancellationToken: Ct);
        var timer = Assert.Single(raw.Events, e => e.TimerCreated is not null);
        Assert.Single(raw.Events, e => e.TimerFired is not null && e.TimerFired.TimerId == timer.EventId);
    }

    [Fact]
    public async Task ExternalEvent_RaisedBeforeAnyoneWaits_IsBufferedAndDelivered()
    {
        var id = Rig.NewId("buffered");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Event, id, new EventInput("go", 0, DelayBeforeWaitMs: 1500), null, Ct);

        await Rig.Client.RaiseEventAsync(id, "go", "early bird", Ct);
        var done = await Rig.CompletionAsync(id);

        Assert.Equal("early bird", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_WithTimeout_NobodyRaisesIt_TimesOut()
    {
        var id = Rig.NewId("timeout");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Event, id, new EventInput("never", 500), null, Ct);

        var done = await Rig.CompletionAsync(id);

        Assert.Equal("timed out", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_WithTimeout_RaisedInTime_IsDelivered_AndNameIsCaseInsensitive()
    {
        var id = Rig.NewId("intime");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Event, id, new EventInput("Approval", 120_000), null, Ct);

        await Rig.Client.RaiseEventAsync(id, "approval", "yes", Ct);

        Assert.Equal("yes", (await Rig.CompletionAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_IndefiniteWait_RecordsTheSentinelTimer_WhichNeverFires()
    {
        var id = Rig.NewId("sentinel");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Event, id, new EventInput("late", -1), null, Ct);
        var raw = await WorkflowRig.EventuallyAsync(
            () => Rig.Raw.GetInstanceHistoryAsync(new GetInstanceHistoryRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync,
            h => h.Events.Any(e => e.TimerCreated is not null),
            "the sentinel timerCreated in history");
        var sentinel = Assert.Single(raw.Events, e => e.TimerCreated is not null).TimerCreated;
        Assert.Equal(253402300799L, sentinel.FireAt.Seconds);
        Assert.Equal(999999999, sentinel.FireAt.Nanos);

        await Rig.Client.RaiseEventAsync(id, "late", "finally", Ct);
        var done = await Rig.CompletionAsync(id);

        Assert.Equal("finally", done.ReadOutputAs<string>());
        var history = await Rig.Raw.GetInstanceHistoryAsync(new GetInstanceHistoryRequest { InstanceId = id }, cancellationToken: Ct);
        Assert.DoesNotContain(history.Events, e => e.TimerFired is not null);
    }

    [Fact]
    public async Task ActivityRetryPolicy_FailsTwiceThenSucceeds_EachAttemptRecorded()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var id = Rig.NewId("retry");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Retry, id, new FlakyInput(run, FailTimes: 2, MaxAttempts: 3), null, Ct);

        var done = await Rig.CompletionAsync(id);

        Assert.Equal("ok after 3 attempts", done.ReadOutputAs<string>());
        Assert.Equal(3, await Rig.CountAsync(Names.Attempts(run)));
        var history = await Rig.Client.GetInstanceHistoryAsync(id, Ct);
        Assert.Equal(2, history.Count(e => e.EventType == WorkflowHistoryEventType.TaskFailed));
        Assert.Equal(1, history.Count(e => e.EventType == WorkflowHistoryEventType.TaskCompleted));
        Assert.Equal(2, history.Count(e => e.EventType == WorkflowHistoryEventType.TimerFired)); // the retry delays
    }

    [Fact]
    public async Task ActivityRetryPolicy_Exhausted_TheWorkflowSeesTheFailure()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var id = Rig.NewId("exhausted");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Retry, id, new FlakyInput(run, FailTimes: 5, MaxAttempts: 2), null, Ct);

        var done = await Rig.CompletionAsync(id);

        Assert.Equal("failed: attempt 2 fails on purpose", done.ReadOutputAs<string>());
        Assert.Equal(2, await Rig.CountAsync(Names.Attempts(run)));
    }

    [Fact]
    public async Task ActivityFailure_Uncaught_WorkflowFailsWithTheActivitysError()
    {
        var id = Rig.NewId("fails");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.AlwaysFails, id, new FlakyInput(Guid.NewGuid().ToString("N"), 1, 1), null, Ct);

        var done = await Rig.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.NotNull(done.FailureDetails);
        Assert.Contains("fails on purpose", done.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChildWorkflow_Completes_ParentGetsItsResult_ChildKnowsItsParent()
    {
        var id = Rig.NewId("parent");
        var child = id + "-child";
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Parent, id, new ParentInput(child, "hello", ChildFails: false), null, Ct);

        var done = await Rig.CompletionAsync(id);

        Assert.Equal("child said HELLO", done.ReadOutputAs<string>());
        var raw = await Rig.Raw.GetInstanceAsync(new GetInstanceRequest { InstanceId = child, GetInputsAndOutputs = true }, cancellationToken: Ct);
        Assert.True(raw.Exists);
        Assert.Equal(OrchestrationStatus.Completed, raw.WorkflowState.WorkflowStatus);
        Assert.Equal(id, raw.WorkflowState.ParentInstanceId);
    }

    [Fact]
    public async Task ChildWorkflow_Fails_ParentSeesTheFailure()
    {
        var id = Rig.NewId("parent");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Parent, id, new ParentInput(id + "-child", "x", ChildFails: true), null, Ct);

        var done = await Rig.CompletionAsync(id);

        Assert.StartsWith("child failed:", done.ReadOutputAs<string>(), StringComparison.Ordinal);
        Assert.Equal(WorkflowRuntimeStatus.Failed, (await Rig.Client.GetWorkflowStateAsync(id + "-child", true, Ct)).RuntimeStatus);
    }

    [Fact]
    public async Task ContinueAsNew_RestartsWithNewInput_HistoryHoldsOnlyTheLastExecution()
    {
        var id = Rig.NewId("counter");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Counter, id, new CounterInput(0, 3), null, Ct);

        var done = await Rig.CompletionAsync(id);

        Assert.Equal(3, done.ReadOutputAs<int>());
        Assert.Equal(3, done.ReadInputAs<CounterInput>()!.Value);
        var history = await Rig.Client.GetInstanceHistoryAsync(id, Ct);
        Assert.Single(history, e => e.EventType == WorkflowHistoryEventType.ExecutionStarted);
        Assert.DoesNotContain(history, e => e.EventType == WorkflowHistoryEventType.TimerCreated);
    }

    [Fact]
    public async Task SuspendResume_EventsWaitWhileSuspended_TheWorkflowFinishesAfterResume()
    {
        var id = Rig.NewId("suspend");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Status, id, "s", null, Ct);
        await WorkflowRig.EventuallyAsync(() => Rig.Client.GetWorkflowStateAsync(id, true, Ct), s => s.ReadCustomStatusAs<System.Text.Json.JsonElement>().ValueKind == System.Text.Json.JsonValueKind.Object, "custom status");

        await Rig.Client.SuspendWorkflowAsync(id, "maintenance", Ct);
        Assert.Equal(WorkflowRuntimeStatus.Suspended, (await Rig.Client.GetWorkflowStateAsync(id, true, Ct)).RuntimeStatus);
        await Rig.Client.RaiseEventAsync(id, "finish", "now", Ct);
        await WorkflowRig.EventuallyAsync(
            () => Rig.Client.GetInstanceHistoryAsync(id, Ct),
            h => h.Any(e => e.EventType == WorkflowHistoryEventType.EventRaised),
            "the raised event committed to history while suspended");
        var whileSuspended = await Rig.Client.GetWorkflowStateAsync(id, true, Ct);
        Assert.Equal(WorkflowRuntimeStatus.Suspended, whileSuspended.RuntimeStatus);

        await Rig.Client.ResumeWorkflowAsync(id, "done", Ct);
        var done = await Rig.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("finished with now", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Terminate_RunningWorkflow_EndsTerminatedWithTheGivenOutput_ChildrenToo()
    {
        var id = Rig.NewId("term");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Status, id, "t", null, Ct);

        await Rig.Client.TerminateWorkflowAsync(id, "stopped by the test", Ct);

        var state = await Rig.Client.GetWorkflowStateAsync(id, true, Ct);
        Assert.Equal(WorkflowRuntimeStatus.Terminated, state.RuntimeStatus);
        Assert.Equal("stopped by the test", state.ReadOutputAs<string>());
        await Rig.Client.RaiseEventAsync(id, "finish", "too late", Ct); // accepted and dropped, as daprd
        Assert.Equal(WorkflowRuntimeStatus.Terminated, (await Rig.Client.GetWorkflowStateAsync(id, true, Ct)).RuntimeStatus);
    }

    [Fact]
    public async Task Purge_FinishedInstanceIsGone_RunningOneIsRefused_UnknownOneIsFalse()
    {
        var running = Rig.NewId("purge-run");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Status, running, "p", null, Ct);
        var refused = await Assert.ThrowsAsync<RpcException>(() => Rig.Client.PurgeInstanceAsync(running, Ct));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("terminate it first", refused.Status.Detail, StringComparison.Ordinal);

        var parent = Rig.NewId("purge-parent");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Parent, parent, new ParentInput(parent + "-child", "p", false), null, Ct);
        await Rig.CompletionAsync(parent);
        Assert.True(await Rig.Client.PurgeInstanceAsync(parent, Ct));

        Assert.False((await Rig.Client.GetWorkflowStateAsync(parent, true, Ct)).Exists);
        Assert.False((await Rig.Client.GetWorkflowStateAsync(parent + "-child", true, Ct)).Exists); // recursive
        Assert.False(await Rig.Client.PurgeInstanceAsync(parent, Ct));
        Assert.Empty(await Rig.Effects.Multiplexer.GetServers()[0].KeysAsync(pattern: $"*||{parent}||*").ToListAsync(Ct));
        await Rig.Client.TerminateWorkflowAsync(running, null, Ct);
    }

    [Fact]
    public async Task ListInstanceIds_PagesOverEveryInstance()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = Rig.NewId("list");
            ids.Add(id);
            await Rig.Client.ScheduleNewWorkflowAsync(Names.Counter, id, new CounterInput(3, 3), null, Ct);
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Rig.Client.ListInstanceIdsAsync(token, 2, Ct);
            Assert.True(page.InstanceIds.Count <= 2);
            seen.AddRange(page.InstanceIds);
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 1000);

        Assert.All(ids, id => Assert.Contains(id, seen));
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.True(pages >= 2, $"expected several pages of 2, got {pages}");
    }

    [Fact]
    public async Task StartInstance_RunningIdIsAlreadyExists_FinishedIdStartsAgain()
    {
        var id = Rig.NewId("reuse");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Status, id, "first", null, Ct);
        var dup = await Assert.ThrowsAsync<RpcException>(() => Rig.Client.ScheduleNewWorkflowAsync(Names.Status, id, "second", null, Ct));
        Assert.Equal(StatusCode.AlreadyExists, dup.StatusCode);

        await Rig.Client.RaiseEventAsync(id, "finish", "one", Ct);
        Assert.Equal("finished with one", (await Rig.CompletionAsync(id)).ReadOutputAs<string>());
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Status, id, "again", null, Ct);
        await Rig.Client.RaiseEventAsync(id, "finish", "two", Ct);

        var again = await Rig.CompletionAsync(id);
        Assert.Equal("finished with two", again.ReadOutputAs<string>());
        Assert.Equal("again", again.ReadInputAs<string>());
    }

    [Fact]
    public async Task ScheduledStart_StaysPendingUntilItsTime_ThenRuns()
    {
        var id = Rig.NewId("later");
        var at = DateTimeOffset.UtcNow.AddSeconds(2);
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Counter, id, new CounterInput(1, 1), at, Ct);

        var done = await Rig.CompletionAsync(id);

        Assert.Equal(1, done.ReadOutputAs<int>());
        var history = await Rig.Raw.GetInstanceHistoryAsync(new GetInstanceHistoryRequest { InstanceId = id }, cancellationToken: Ct);
        var firstTurn = history.Events.First(e => e.WorkflowStarted is not null).Timestamp.ToDateTimeOffset();
        Assert.True(firstTurn >= at, $"first turn at {firstTurn:O}, scheduled for {at:O}");
    }

    [Fact]
    public async Task Unsupported_CrossAppActivityFailsTheTask_RerunAndFilteredPurgeAreUnimplemented()
    {
        var id = Rig.NewId("crossapp");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.CrossApp, id, "x", null, Ct);
        var done = await Rig.CompletionAsync(id);
        Assert.Contains("cross-app workflow routing is not supported by the FanVote local sidecar", done.ReadOutputAs<string>(), StringComparison.Ordinal);

        var rerun = await Assert.ThrowsAsync<RpcException>(() => Rig.Client.RerunWorkflowFromEventAsync(id, 0, null, Ct));
        Assert.Equal(StatusCode.Unimplemented, rerun.StatusCode);
        var filtered = await Assert.ThrowsAsync<RpcException>(() => Rig.Raw.PurgeInstancesAsync(
            new PurgeInstancesRequest { PurgeInstanceFilter = new PurgeInstanceFilter() }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, filtered.StatusCode);
        Assert.Contains("purge by instance id", filtered.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hello_Answers_AndStateUsesDaprdsActorKeyLayout()
    {
        await Rig.Raw.HelloAsync(new Google.Protobuf.WellKnownTypes.Empty(), cancellationToken: Ct);
        var id = Rig.NewId("layout");
        await Rig.Client.ScheduleNewWorkflowAsync(Names.Counter, id, new CounterInput(2, 2), null, Ct);
        await Rig.CompletionAsync(id);

        var prefix = $"{Rig.AppId}||dapr.internal.default.{Rig.AppId}.workflow||{id}||";
        var meta = await Rig.Effects.HashGetAsync(prefix + "metadata", "data");
        Assert.True(meta.HasValue, "metadata key missing");
        var parsed = BackendWorkflowStateMetadata.Parser.ParseFrom((byte[])meta!);
        Assert.True(parsed.HistoryLength >= 3);
        var last = HistoryEvent.Parser.ParseFrom((byte[])(await Rig.Effects.HashGetAsync(prefix + $"history-{parsed.HistoryLength - 1:D6}", "data"))!);
        Assert.NotNull(last.ExecutionCompleted);
        Assert.Equal("2", last.ExecutionCompleted.Result.Trim());
    }
}
