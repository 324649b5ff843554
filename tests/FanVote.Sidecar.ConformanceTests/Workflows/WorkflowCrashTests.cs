using Dapr.Workflow;
using Dapr.Workflow.Client;
using FanVote.Sidecar.TestWorkflows;

namespace FanVote.Sidecar.ConformanceTests.Workflows;

/// <summary>What gets SIGKILLed.</summary>
public enum Victim
{
    App,
    Sidecar,
    Both,
}

/// <summary>
/// Durability (docs/workflow-engine.md §4.6–4.7): SIGKILL of the app, the sidecar or both at every step of a multi-step
/// workflow; each activity's effect happens at least once and each completion is recorded once; timers survive a
/// sidecar restart. Each test has its own rig (it kills processes).
/// </summary>
[Trait("Category", "Conformance")]
public sealed class WorkflowCrashTests
{
    private static CancellationToken Ct => WorkflowRig.Deadline();

    [Theory]
    [InlineData(Victim.App)]
    [InlineData(Victim.Sidecar)]
    [InlineData(Victim.Both)]
    public async Task KilledAtEveryStep_EveryEffectHappensAtLeastOnce_EveryCompletionIsRecordedOnce(Victim victim)
    {
        await using var rig = await WorkflowRig.StartAsync(WorkflowStore.Redis);
        const int Steps = 3;
        var id = rig.NewId("crash-" + victim.ToString().ToLowerInvariant());
        await rig.Client.ScheduleNewWorkflowAsync(Names.Steps, id, new StepsInput(rig.Run, Steps, Gated: true, TimerMs: 300), null, Ct);

        for (var step = 1; step <= Steps; step++)
        {
            // The activity of this step is running in the app (it waits for the go key): kill now.
            var s = step;
            await WorkflowRig.EventuallyAsync(() => rig.CountAsync(Names.Started(rig.Run, id, s)), n => n >= 1, $"step {s} started");
            await KillAndRestartAsync(rig, victim);
            await rig.Effects.StringSetAsync(Names.Go(rig.Run, id, s), "1");
        }

        var done = await rig.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(60, done.ReadOutputAs<int>());
        for (var step = 1; step <= Steps; step++)
        {
            Assert.True(await rig.CountAsync(Names.Done(rig.Run, id, step)) >= 1, $"step {step}'s effect never happened");
        }

        var history = await rig.Client.GetInstanceHistoryAsync(id, Ct);
        Assert.Equal(Steps, history.Count(e => e.EventType == WorkflowHistoryEventType.TaskScheduled));
        Assert.Equal(Steps, history.Count(e => e.EventType == WorkflowHistoryEventType.TaskCompleted));
        Assert.Equal(Steps, history.Count(e => e.EventType == WorkflowHistoryEventType.TimerFired));
        Assert.Single(history, e => e.EventType == WorkflowHistoryEventType.ExecutionCompleted);
    }

    [Theory]
    [InlineData(WorkflowStore.Redis)]
    [InlineData(WorkflowStore.PostgresV2)]
    public async Task Timer_SidecarKilledWhileItIsPending_FiresAfterTheRestart(WorkflowStore store)
    {
        await using var rig = await WorkflowRig.StartAsync(store);
        var id = rig.NewId("timer-restart");
        await rig.Client.ScheduleNewWorkflowAsync(Names.Timer, id, new TimerInput(4000), null, Ct);
        var created = (await rig.Client.GetWorkflowStateAsync(id, true, Ct)).CreatedAt;

        await rig.RestartSidecarAsync();
        var done = await rig.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.True(done.ReadOutputAs<DateTime>() >= created.UtcDateTime.AddMilliseconds(4000), "the timer fired before its time");
        var history = await rig.Client.GetInstanceHistoryAsync(id, Ct);
        Assert.Single(history, e => e.EventType == WorkflowHistoryEventType.TimerFired);
    }

    [Fact]
    public async Task Child_BothKilledWhileTheChildRuns_ParentStillGetsTheResultOnce()
    {
        await using var rig = await WorkflowRig.StartAsync(WorkflowStore.Redis);
        var id = rig.NewId("child-crash");
        var child = id + "-child";
        await rig.Client.ScheduleNewWorkflowAsync(Names.Parent, id, new ParentInput(child, "crash", false), null, Ct);
        await WorkflowRig.EventuallyAsync(() => rig.Client.GetWorkflowStateAsync(child, true, Ct), s => s.Exists, "the child created");

        await KillAndRestartAsync(rig, Victim.Both);
        var done = await rig.CompletionAsync(id);

        Assert.Equal("child said CRASH", done.ReadOutputAs<string>());
        var history = await rig.Client.GetInstanceHistoryAsync(id, Ct);
        Assert.Single(history, e => e.EventType == WorkflowHistoryEventType.SubOrchestrationInstanceCompleted);
    }

    [Fact]
    public async Task ExternalEvent_RaisedWhileNoAppRuns_IsKeptAndDeliveredWhenTheAppComes()
    {
        await using var rig = await WorkflowRig.StartAsync(WorkflowStore.Redis);
        var id = rig.NewId("no-app");
        await rig.Client.ScheduleNewWorkflowAsync(Names.Event, id, new EventInput("go", 0), null, Ct);

        await rig.App.KillAsync();
        await rig.Client.RaiseEventAsync(id, "go", "kept", Ct);
        await rig.RestartSidecarAsync(); // the event must be on disk, not only in the sidecar's memory
        rig.App.Start();

        Assert.Equal("kept", (await rig.CompletionAsync(id)).ReadOutputAs<string>());
    }

    private static async Task KillAndRestartAsync(WorkflowRig rig, Victim victim)
    {
        switch (victim)
        {
            case Victim.App:
                await rig.RestartAppAsync();
                break;
            case Victim.Sidecar:
                await rig.RestartSidecarAsync();
                break;
            default:
                await rig.App.KillAsync();
                await rig.Sidecar.KillAsync();
                await rig.Sidecar.RestartAsync(waitForApp: false);
                rig.App.Start();
                break;
        }
    }
}
