using System.Net;
using System.Text;
using Dapr.Workflow;
using Dapr.Workflow.Registration;
using FanVote.Contracts;
using FanVote.Testing;
using Grpc.Core;

namespace FanVote.Orchestrator.Tests;

/// <summary>
/// Nobody without the right secret reaches a window: the app's sidecar-only routes (report subscriptions) need the app
/// token (the app has no /actors routes any more), the sidecar's actor API and its workflow API (TaskHubSidecarService) need the Dapr API
/// token, the operator API the operator key (wrong keys throttled); and even with the API token a window workflow started
/// with a definition the operator API would refuse fails at once and announces nothing.
/// </summary>
public sealed class OperatorTrustTests(OrchestratorRig rig) : IClassFixture<OrchestratorRig>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static object Invalid(string window) => new
    {
        definition = new
        {
            windowId = window, title = "x", candidates = new[] { "only-one" }, opensAt = DateTimeOffset.UtcNow, closesAt = DateTimeOffset.UtcNow.AddYears(10),
            votesPerAccount = 2_000_000_000,
        },
        stepByStep = false,
        timings = new { },
    };

    private DaprWorkflowClient WorkflowClient(string? apiToken)
    {
        var builder = new DaprWorkflowClientBuilder().UseGrpcEndpoint(rig.Service.Sidecar.GrpcEndpoint);
        if (apiToken is not null)
        {
            builder.UseDaprApiToken(apiToken);
        }

        return builder.Build();
    }

    [Fact]
    public async Task SidecarOnlyRoutesAndTheWorkflowApi_WithoutTheirTokens_AreRefused_AndNoWindowExists()
    {
        var w = "wf-" + Guid.NewGuid().ToString("N")[..6];
        using var actorRoute = await rig.Http.PutAsync(new Uri($"/actors/WindowActor/{w}/method/CreateAsync", UriKind.Relative), Json("{}"), Ct);
        using var sidecarActorsNoToken = await rig.Http.PutAsync(new Uri($"{rig.Service.Sidecar.HttpEndpoint}/v1.0/actors/WindowActor/{w}/method/CreateAsync"), Json("{}"), Ct);
        using var report = await rig.Http.PostAsync(new Uri("/window-reports/audited", UriKind.Relative), Json("{\"data\":{\"windowId\":\"" + w + "\"}}"), Ct);
        await using var stranger = WorkflowClient(apiToken: null);
        var start = await Assert.ThrowsAsync<RpcException>(() => stranger.ScheduleNewWorkflowAsync("WindowLifecycleWorkflow", w, Invalid(w), null, Ct));
        var go = await Assert.ThrowsAsync<RpcException>(() => stranger.RaiseEventAsync(w, "continue", new { phase = "Scheduled" }, Ct));
        var read = await Assert.ThrowsAsync<RpcException>(() => stranger.GetWorkflowStateAsync(w, true, Ct));

        // The app hosts no actors any more: /actors/... is no route at all (404), not a refused one.
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized),
            (actorRoute.StatusCode, sidecarActorsNoToken.StatusCode, report.StatusCode));
        Assert.Equal((StatusCode.Unauthenticated, StatusCode.Unauthenticated, StatusCode.Unauthenticated), (start.StatusCode, go.StatusCode, read.StatusCode));
        Assert.Null(await rig.GetAsync(w));
        Assert.DoesNotContain(await rig.WindowEventsAsync(), e => e.WindowId == w);
    }

    [Fact]
    public async Task Workflow_StartedWithTheApiTokenButAnInvalidDefinition_FailsAndAnnouncesNothing()
    {
        var w = "wf-" + Guid.NewGuid().ToString("N")[..6];
        await using var insider = WorkflowClient(TestKeys.DaprApiToken);

        await insider.ScheduleNewWorkflowAsync("WindowLifecycleWorkflow", w, Invalid(w), null, Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        var done = await insider.WaitForWorkflowCompletionAsync(w, true, timeout.Token);

        Assert.Equal(WorkflowRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("invalid window definition", done.FailureDetails?.ErrorMessage, StringComparison.Ordinal);
        Assert.Null(await rig.GetAsync(w));
        using var create = await rig.CreateAsync(new
        {
            windowId = w, title = "x", candidates = new[] { "a", "b" }, opensAt = DateTimeOffset.UtcNow.AddMinutes(1), closesAt = DateTimeOffset.UtcNow.AddMinutes(2), votesPerAccount = 1,
        });
        Assert.Equal(HttpStatusCode.Conflict, create.StatusCode); // the id is taken: never scheduled over
        Assert.DoesNotContain(await rig.WindowEventsAsync(), e => e.WindowId == w);
    }

    [Fact]
    public async Task OperatorKey_WrongOnesAreThrottledPerAddress_ThenEvenTheRightOneWaits()
    {
        // Its own service: throttling is per process and this test uses up the allowance of 127.0.0.1.
        await using var own = new OrchestratorRig();
        await own.InitializeAsync();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var r = await own.CreateAsync(new { windowId = "nope" }, key: "wrong-key-" + i);
            statuses.Add(r.StatusCode);
        }

        using var right = await own.CreateAsync(new { windowId = "nope" });

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 10), statuses.Take(10));
        Assert.Equal([(HttpStatusCode)429, (HttpStatusCode)429], statuses.Skip(10));
        Assert.Equal((HttpStatusCode)429, right.StatusCode);
        Assert.NotNull(right.Headers.RetryAfter);
    }
}
