using Dapr.Workflow;
using FanVote.Sidecar.TestWorkflows;
using Grpc.Core;

namespace FanVote.Sidecar.ConformanceTests.Workflows;

/// <summary>The engine over each actor state store the sidecar supports, and the API-token check on its RPCs.</summary>
[Trait("Category", "Conformance")]
public sealed class WorkflowStoreTests
{
    private static CancellationToken Ct => WorkflowRig.Deadline();

    [Theory]
    [InlineData(WorkflowStore.Redis)]
    [InlineData(WorkflowStore.PostgresV1)]
    [InlineData(WorkflowStore.PostgresV2)]
    [InlineData(WorkflowStore.InMemory)]
    public async Task EachStore_ActivitiesTimersEventsChildrenAndContinueAsNew_Complete(WorkflowStore store)
    {
        await using var rig = await WorkflowRig.StartAsync(store);
        var steps = rig.NewId("steps");
        var parent = rig.NewId("parent");
        var counter = rig.NewId("counter");
        var waiting = rig.NewId("event");
        await rig.Client.ScheduleNewWorkflowAsync(Names.Steps, steps, new StepsInput(rig.Run, 2, Gated: false, TimerMs: 200), null, Ct);
        await rig.Client.ScheduleNewWorkflowAsync(Names.Parent, parent, new ParentInput(parent + "-child", "store", false), null, Ct);
        await rig.Client.ScheduleNewWorkflowAsync(Names.Counter, counter, new CounterInput(0, 2), null, Ct);
        await rig.Client.ScheduleNewWorkflowAsync(Names.Event, waiting, new EventInput("go", 60_000), null, Ct);
        await rig.Client.RaiseEventAsync(waiting, "go", store.ToString(), Ct);

        Assert.Equal(30, (await rig.CompletionAsync(steps)).ReadOutputAs<int>());
        Assert.Equal("child said STORE", (await rig.CompletionAsync(parent)).ReadOutputAs<string>());
        Assert.Equal(2, (await rig.CompletionAsync(counter)).ReadOutputAs<int>());
        Assert.Equal(store.ToString(), (await rig.CompletionAsync(waiting)).ReadOutputAs<string>());
        var listed = await rig.Client.ListInstanceIdsAsync(null, null, Ct);
        Assert.Contains(steps, listed.InstanceIds);
        Assert.Contains(parent + "-child", listed.InstanceIds);
        Assert.True(await rig.Client.PurgeInstanceAsync(steps, Ct));
        Assert.DoesNotContain(steps, (await rig.Client.ListInstanceIdsAsync(null, null, Ct)).InstanceIds);
    }

    [Fact]
    public async Task ApiToken_WorkflowRpcWithoutTheTokenIsUnauthenticated_WithItTheWorkflowRuns()
    {
        await using var rig = await WorkflowRig.StartAsync(WorkflowStore.Redis, apiToken: "wf-s3cret");
        await using var stranger = new Dapr.Workflow.Registration.DaprWorkflowClientBuilder().UseGrpcEndpoint(rig.Sidecar.GrpcEndpoint).Build() as DaprWorkflowClient
            ?? throw new InvalidOperationException("no client");

        var e = await Assert.ThrowsAsync<RpcException>(() => stranger.ScheduleNewWorkflowAsync(Names.Counter, "intruder", new CounterInput(1, 1), null, Ct));
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        var raw = await Assert.ThrowsAsync<RpcException>(() => rig.Raw.GetWorkItems(new Dapr.DurableTask.Protobuf.GetWorkItemsRequest(), cancellationToken: Ct).ResponseStream.MoveNext(Ct));
        Assert.Equal(StatusCode.Unauthenticated, raw.StatusCode);

        var id = rig.NewId("authorised");
        await rig.Client.ScheduleNewWorkflowAsync(Names.Counter, id, new CounterInput(1, 1), null, Ct);
        Assert.Equal(WorkflowRuntimeStatus.Completed, (await rig.CompletionAsync(id)).RuntimeStatus);
        Assert.False((await rig.Client.GetWorkflowStateAsync("intruder", true, Ct)).Exists);
    }
}
