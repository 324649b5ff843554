using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapr.Client;
using FanVote.Sidecar.ConformanceTests.Actors;
using FanVote.Sidecar.TestActors;
using FanVote.Testing;

namespace FanVote.Sidecar.ConformanceTests;

/// <summary>
/// Where a Dapr SDK of another language saw the local sidecar differ from daprd (issue 13 part 5): request metadata on
/// a state save, metadata `actors`/`extended` (and the gRPC active-actor counts), a malformed actor state body, routes
/// the sidecar does not offer, and an etag mismatch inside a transaction. Each answer is daprd's.
/// </summary>
[Trait("Category", "Conformance")]
public sealed class FaithfulnessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ResourceFolder Memory() =>
        new ResourceFolder().With("mem.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: mem }\nspec: { type: state.in-memory, version: v1 }\n");

    [Fact]
    public async Task StateSave_RequestLevelTtlMetadata_AppliesToEveryItem_AndTheyExpire()
    {
        using var res = new ResourceFolder().WithRedisState("st");
        await using var sidecar = await new SidecarHost("ttl-" + Guid.NewGuid().ToString("N")[..6], res.Path).StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.HttpEndpoint) };
        var key = "ttl-" + Guid.NewGuid().ToString("N")[..8];

        using (var save = await http.PostAsJsonAsync("/v1.0/state/st?metadata.ttlInSeconds=2", new[] { new { key, value = "short-lived" } }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, save.StatusCode);
        }

        using (var get = await http.GetAsync(new Uri($"/v1.0/state/st/{key}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.True(get.Headers.Contains("metadata.ttlExpireTime"), "the saved item carries no expiry: the request's ttlInSeconds was dropped");
        }

        var deadline = DateTime.UtcNow.AddMinutes(2);
        HttpStatusCode last;
        do
        {
            await Task.Delay(200, Ct);
            using var r = await http.GetAsync(new Uri($"/v1.0/state/st/{key}", UriKind.Relative), Ct);
            last = r.StatusCode;
        }
        while (last != HttpStatusCode.NoContent && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.NoContent, last);
    }

    [Fact]
    public async Task StateTransaction_EtagMismatch_Is500ErrStateTransaction_AndNothingChanges()
    {
        using var res = Memory();
        await using var sidecar = await new SidecarHost("tx-" + Guid.NewGuid().ToString("N")[..6], res.Path).StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.HttpEndpoint) };
        using (var save = await http.PostAsJsonAsync("/v1.0/state/mem", new[] { new { key = "k", value = "v1" } }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, save.StatusCode);
        }

        using var tx = await http.PostAsJsonAsync("/v1.0/state/mem/transaction", new
        {
            operations = new object[]
            {
                new { operation = "upsert", request = new { key = "other", value = "x" } },
                new { operation = "upsert", request = new { key = "k", value = "v2", etag = "not-the-etag" } },
            },
        }, Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, tx.StatusCode);
        using var err = JsonDocument.Parse(await tx.Content.ReadAsStringAsync(Ct));
        Assert.Equal("ERR_STATE_TRANSACTION", err.RootElement.GetProperty("errorCode").GetString());
        using var other = await http.GetAsync(new Uri("/v1.0/state/mem/other", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NoContent, other.StatusCode);
    }

    [Theory]
    [InlineData("/v1.0/invoke/someapp/method/hello", "service invocation")]
    [InlineData("/v1.0-alpha1/state/mem/query", "the state query API")]
    [InlineData("/v1.0/bindings/mybinding", "bindings")]
    [InlineData("/v1.0/secrets/vault/key", "secrets")]
    public async Task NotOfferedApi_Is501ErrApiUnimplemented_NamingTheApi(string path, string api)
    {
        using var res = Memory();
        await using var sidecar = await new SidecarHost("na-" + Guid.NewGuid().ToString("N")[..6], res.Path).StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.HttpEndpoint) };

        using var r = await http.PostAsync(new Uri(path, UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.NotImplemented, r.StatusCode);
        using var err = JsonDocument.Parse(await r.Content.ReadAsStringAsync(Ct));
        Assert.Equal("ERR_API_UNIMPLEMENTED", err.RootElement.GetProperty("errorCode").GetString());
        Assert.Contains(api, err.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("daprd", err.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRoute_Is404WithADaprErrorBody()
    {
        using var res = Memory();
        await using var sidecar = await new SidecarHost("nf-" + Guid.NewGuid().ToString("N")[..6], res.Path).StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.HttpEndpoint) };

        using var r = await http.GetAsync(new Uri("/v1.0/no-such-api/x", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        using var err = JsonDocument.Parse(await r.Content.ReadAsStringAsync(Ct));
        Assert.Equal("ERR_NOT_FOUND", err.RootElement.GetProperty("errorCode").GetString());
    }

    [Fact]
    public async Task Actors_MetadataListsActorsAndExtended_OverHttpAndGrpc_MalformedStateBodyIs400()
    {
        await using var rig = new ActorRig { IdleSeconds = "3600" }; // the actor must stay active while the counts are read
        await rig.InitializeAsync();
        await rig.Proxy<IStateActor>("StateActor", "meta-1").Put("k", "v", 0);
        using var http = new HttpClient { BaseAddress = new Uri(rig.Host.HttpEndpoint) };

        using (var meta = JsonDocument.Parse(await http.GetStringAsync(new Uri("/v1.0/metadata", UriKind.Relative), Ct)))
        {
            var actors = meta.RootElement.GetProperty("actors").EnumerateArray().ToList();
            Assert.Contains(actors, a => a.GetProperty("type").GetString() == "StateActor" && a.GetProperty("count").GetInt32() >= 1);
            Assert.Contains(actors, a => a.GetProperty("type").GetString() == "TimerActor"); // hosted, idle: count 0
            Assert.Equal(JsonValueKind.Object, meta.RootElement.GetProperty("extended").ValueKind);
            Assert.True(meta.RootElement.GetProperty("extended").TryGetProperty("daprRuntimeVersion", out _));
        }

        var channel = Grpc.Net.Client.GrpcChannel.ForAddress(rig.Host.GrpcEndpoint);
        var raw = await new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel).GetMetadataAsync(new Dapr.Client.Autogen.Grpc.v1.GetMetadataRequest(), cancellationToken: Ct);
#pragma warning disable CS0612 // the deprecated alias other SDKs read
        Assert.Contains(raw.ActiveActorsCount, c => c.Type == "StateActor" && c.Count >= 1);
#pragma warning restore CS0612
        using var client = new DaprClientBuilder().UseGrpcEndpoint(rig.Host.GrpcEndpoint).UseHttpEndpoint(rig.Host.HttpEndpoint).Build();
        Assert.Contains((await client.GetMetadataAsync(Ct)).Actors, a => a.Type == "StateActor" && a.Count >= 1);

        foreach (var body in new[] { "{\"not\":\"an array\"}", "[{\"operation\":\"upsert\"}]", "[{\"operation\":\"upsert\",\"request\":{\"value\":1}}]", "[42]" })
        {
            using var r = await http.PutAsync(new Uri("/v1.0/actors/StateActor/meta-1/state", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), Ct);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            using var err = JsonDocument.Parse(await r.Content.ReadAsStringAsync(Ct));
            Assert.Equal("ERR_MALFORMED_REQUEST", err.RootElement.GetProperty("errorCode").GetString());
        }

        Assert.Equal("v", await rig.Proxy<IStateActor>("StateActor", "meta-1").Read("k")); // nothing changed
    }
}
