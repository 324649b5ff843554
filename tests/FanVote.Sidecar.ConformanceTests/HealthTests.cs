using System.Net;
using FanVote.Testing;

namespace FanVote.Sidecar.ConformanceTests;

[Trait("Category", "Conformance")]
public sealed class HealthTests
{
    [Fact]
    public async Task Healthz_SidecarWithoutApp_Answers204()
    {
        using var res = new ResourceFolder().WithRedisState().WithRedisPubSub();
        await using var sidecar = await new SidecarHost("health-" + Guid.NewGuid().ToString("N")[..6], res.Path).StartAsync();
        using var http = new HttpClient();
        using var r = await http.GetAsync(new Uri(sidecar.HttpEndpoint + "/v1.0/healthz"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using var o = await http.GetAsync(new Uri(sidecar.HttpEndpoint + "/v1.0/healthz/outbound"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, o.StatusCode);
    }
}
