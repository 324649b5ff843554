using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using FanVote.ServiceDefaults;
using FanVote.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace FanVote.ServiceDefaults.Tests;

public sealed class DefaultsTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    private static async Task<(WebApplication App, string Url)> StartAsync(int daprHttpPort)
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DAPR_HTTP_PORT"] = daprHttpPort.ToString(CultureInfo.InvariantCulture),
            ["DAPR_GRPC_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
        });
        builder.AddFanVoteDefaults("defaults-test");
        var app = builder.Build();
        app.MapFanVoteDefaultEndpoints();
        app.MapGet("/boom", string () => throw new InvalidOperationException("kaputt"));
        await app.StartAsync(TestContext.Current.CancellationToken);
        return (app, $"http://127.0.0.1:{port}");
    }

    [Fact]
    public async Task Health_NoSidecar_AliveButNotReady()
    {
        var (app, url) = await StartAsync(Ports.Free());
        await using var _ = app;
        var ct = TestContext.Current.CancellationToken;

        using var alive = await Http.GetAsync(new Uri(url + "/alive"), ct);
        using var ready = await Http.GetAsync(new Uri(url + "/healthz"), ct);

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var doc = JsonDocument.Parse(await ready.Content.ReadAsStringAsync(ct));
        Assert.Contains(doc.RootElement.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "dapr-sidecar" && c.GetProperty("status").GetString() == "Unhealthy");
    }

    [Fact]
    public async Task Health_WithLocalSidecar_Ready()
    {
        using var res = new ResourceFolder().With("state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: s }\nspec: { type: state.in-memory, version: v1 }\n");
        await using var sidecar = await new SidecarHost("defaults-" + Guid.NewGuid().ToString("N")[..6], res.Path).StartAsync(waitForApp: false);
        var (app, url) = await StartAsync(sidecar.HttpPort);
        await using var _ = app;

        using var ready = await Http.GetAsync(new Uri(url + "/healthz"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Metrics_FanVoteMeter_IsExportedInPrometheusText()
    {
        var (app, url) = await StartAsync(Ports.Free());
        await using var _ = app;
        using var meter = new Meter("FanVote.DefaultsTest");
        var counter = meter.CreateCounter<long>("fanvote.defaults_test.things");
        counter.Add(3);
        var ct = TestContext.Current.CancellationToken;

        using var r = await Http.GetAsync(new Uri(url + "/metrics"), ct);
        var text = await r.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Matches("""(?m)^fanvote_defaults_test_things_total(\{[^}]*otel_scope_name="FanVote\.DefaultsTest"[^}]*\})? 3( \d+)?$""", text);
    }

    [Fact]
    public async Task Errors_UnhandledException_IsProblemJsonWithoutInternals()
    {
        var (app, url) = await StartAsync(Ports.Free());
        await using var _ = app;
        var ct = TestContext.Current.CancellationToken;

        using var r = await Http.GetAsync(new Uri(url + "/boom"), ct);
        var body = await r.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("kaputt", body, StringComparison.Ordinal);
    }
}
