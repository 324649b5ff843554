using System.Net;
using Dapr;
using Dapr.Client;
using FanVote.Testing;
using Grpc.Core;

namespace FanVote.Sidecar.ConformanceTests;

/// <summary>docs/dapr-subset.md §10 rows 1 and 7: listeners, readiness, API tokens, start-up errors.</summary>
[Trait("Category", "Conformance")]
public sealed class StartupAndTokenTests
{
    private static string NewAppId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";

    [Fact]
    public async Task WaitForSidecar_ReturnsAfterComponentsLoaded_MetadataListsThem()
    {
        using var res = new ResourceFolder().WithRedisState("st").WithRedisPubSub("bus");
        var sidecar = new SidecarHost(NewAppId("meta"), res.Path);
        await using var _ = sidecar;
        sidecar.Process.Start();
        using var client = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcEndpoint).UseHttpEndpoint(sidecar.HttpEndpoint).Build();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));

        await client.WaitForSidecarAsync(cts.Token);
        var meta = await client.GetMetadataAsync(cts.Token);

        Assert.Equal(sidecar.AppId, meta.Id);
        Assert.Contains(meta.Components, c => c.Name == "st" && c.Type == "state.redis");
        Assert.Contains(meta.Components, c => c.Name == "bus" && c.Type == "pubsub.redis");
    }

    [Fact]
    public async Task ApiToken_Http_MissingOrWrongIs401_HealthzExempt()
    {
        using var res = new ResourceFolder().WithRedisState();
        await using var sidecar = await new SidecarHost(NewAppId("tok"), res.Path, env: new Dictionary<string, string?> { ["DAPR_API_TOKEN"] = "s3cret" }).StartAsync();
        using var http = new HttpClient();
        var ct = TestContext.Current.CancellationToken;

        using (var health = await http.GetAsync(new Uri(sidecar.HttpEndpoint + "/v1.0/healthz"), ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, health.StatusCode);
        }

        using (var noToken = await http.GetAsync(new Uri(sidecar.HttpEndpoint + "/v1.0/metadata"), ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
            Assert.Equal("invalid api token", await noToken.Content.ReadAsStringAsync(ct));
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, sidecar.HttpEndpoint + "/v1.0/metadata");
        wrong.Headers.Add("dapr-api-token", "nope");
        using (var r = await http.SendAsync(wrong, ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        using var right = new HttpRequestMessage(HttpMethod.Get, sidecar.HttpEndpoint + "/v1.0/metadata");
        right.Headers.Add("dapr-api-token", "s3cret");
        using (var r = await http.SendAsync(right, ct))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
    }

    [Fact]
    public async Task ApiToken_Grpc_WrongTokenIsUnauthenticated_RightTokenWorks()
    {
        using var res = new ResourceFolder().WithRedisState();
        await using var sidecar = await new SidecarHost(NewAppId("gtok"), res.Path, env: new Dictionary<string, string?> { ["DAPR_API_TOKEN"] = "s3cret" }).StartAsync();
        var ct = TestContext.Current.CancellationToken;

        using var wrong = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcEndpoint).UseHttpEndpoint(sidecar.HttpEndpoint).UseDaprApiToken("nope").Build();
        var e = await Assert.ThrowsAsync<DaprException>(() => wrong.GetMetadataAsync(ct));
        Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(e.InnerException).StatusCode);

        using var right = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcEndpoint).UseHttpEndpoint(sidecar.HttpEndpoint).UseDaprApiToken("s3cret").Build();
        var meta = await right.GetMetadataAsync(ct);
        Assert.Equal(sidecar.AppId, meta.Id);
    }

    [Fact]
    public async Task Startup_UnsupportedComponentType_ExitsWithErrorNamingTypeFileAndDaprd()
    {
        using var res = new ResourceFolder().With("pubsub.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: vote-bus }
            spec:
              type: pubsub.kafka
              version: v1
              metadata:
              - { name: brokers, value: "kafka:9092" }
            """);
        await using var sidecar = new SidecarHost(NewAppId("kafka"), res.Path);

        sidecar.Process.Start();
        var code = await sidecar.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, code);
        Assert.Contains("pubsub.kafka", sidecar.Process.Output, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(res.Path, "pubsub.yaml"), sidecar.Process.Output, StringComparison.Ordinal);
        Assert.Contains("daprd", sidecar.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_UnknownFlag_ExitsNonZeroNamingTheFlag()
    {
        using var res = new ResourceFolder();
        await using var sidecar = new SidecarHost(NewAppId("flag"), res.Path, extraArgs: ["--frobnicate", "1"]);

        sidecar.Process.Start();
        var code = await sidecar.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, code);
        Assert.Contains("frobnicate", sidecar.Process.Output, StringComparison.Ordinal);
    }
}
