using System.Net;
using System.Net.Http.Json;
using System.Text;
using FanVote.Contracts;
using FanVote.Testing;

namespace FanVote.Orchestrator.Tests;

/// <summary>
/// Nobody without the right secret reaches a window: the actor routes and the report subscriptions need the app token
/// (sidecar only), the sidecar's actor API needs the Dapr API token, the operator API the operator key (wrong keys
/// throttled); and even with the tokens the actor refuses a definition the operator API would refuse.
/// </summary>
public sealed class OperatorTrustTests(OrchestratorRig rig) : IClassFixture<OrchestratorRig>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Invalid(string window) =>
        $$"""{"definition":{"windowId":"{{window}}","title":"x","candidates":["only-one"],"opensAt":"{{DateTimeOffset.UtcNow:O}}","closesAt":"{{DateTimeOffset.UtcNow.AddYears(10):O}}","votesPerAccount":2000000000},"stepByStep":false}""";

    [Fact]
    public async Task ActorRoutes_WithoutTheAppToken_Are401_AndNoWindowExists()
    {
        var w = "actor-" + Guid.NewGuid().ToString("N")[..6];
        using var direct = await rig.Http.PutAsync(new Uri($"/actors/WindowActor/{w}/method/CreateAsync", UriKind.Relative), Json(Invalid(w)), Ct);
        using var read = await rig.Http.PutAsync(new Uri("/actors/WindowActor/demo/method/GetAsync", UriKind.Relative), Json("null"), Ct);
        using var sidecarNoToken = await rig.Http.PutAsync(new Uri($"{rig.Service.Sidecar.HttpEndpoint}/v1.0/actors/WindowActor/{w}/method/CreateAsync"), Json(Invalid(w)), Ct);
        using var report = await rig.Http.PostAsync(new Uri("/window-reports/audited", UriKind.Relative), Json("{\"data\":{\"windowId\":\"" + w + "\"}}"), Ct);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized),
            (direct.StatusCode, read.StatusCode, sidecarNoToken.StatusCode, report.StatusCode));
        Assert.Null(await rig.GetAsync(w));
        Assert.DoesNotContain(await rig.WindowEventsAsync(), e => e.WindowId == w);
    }

    [Fact]
    public async Task Actor_WithTheTokens_StillRefusesAnInvalidDefinition_AndAnnouncesNothing()
    {
        var w = "actor-" + Guid.NewGuid().ToString("N")[..6];
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{rig.Service.Sidecar.HttpEndpoint}/v1.0/actors/WindowActor/{w}/method/CreateAsync") { Content = Json(Invalid(w)) };
        request.Headers.Add("dapr-api-token", TestKeys.DaprApiToken);
        using var r = await rig.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var answer = await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct);
        Assert.True(answer.GetProperty("invalid").TryGetProperty("candidates", out _));
        Assert.True(answer.GetProperty("invalid").TryGetProperty("votesPerAccount", out _));
        Assert.Null(await rig.GetAsync(w));
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
