using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using FanVote.ServiceDefaults;
using FanVote.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FanVote.ServiceDefaults.Tests;

public sealed class DefaultsTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    private const string AppId = "defaults-test";

    private static async Task<(WebApplication App, string Url)> StartAsync(int daprHttpPort, Action<Dictionary<string, string?>>? settings = null)
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var config = TestKeys.AppEnvironment(AppId);
        config["DAPR_HTTP_PORT"] = daprHttpPort.ToString(CultureInfo.InvariantCulture);
        config["DAPR_GRPC_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture);
        settings?.Invoke(config);
        builder.Configuration.AddInMemoryCollection(config);
        builder.AddFanVoteDefaults(AppId);
        var app = builder.Build();
        app.UseForwardedHeaders(); // as ingress and results do
        app.MapFanVoteDefaultEndpoints();
        app.MapGet("/v1/client-address", (Microsoft.AspNetCore.Http.HttpContext c) => c.Connection.RemoteIpAddress?.ToString() ?? "").AllowAnonymous();
        app.MapGet("/boom", string () => throw new InvalidOperationException("kaputt"));
        app.MapGet("/internal/thing", () => "sidecar only");
        app.MapPost("/v1/public-echo", (Echo e) => e).AllowAnonymous();
        await app.StartAsync(TestContext.Current.CancellationToken);
        return (app, $"http://127.0.0.1:{port}");
    }

    private sealed record Echo(string Text);

    private static HttpRequestMessage Get(string url, string? token = null, bool bearer = false)
    {
        var m = new HttpRequestMessage(HttpMethod.Get, new Uri(url));
        if (token is not null)
        {
            if (bearer)
            {
                m.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }
            else
            {
                m.Headers.Add("dapr-api-token", token);
            }
        }

        return m;
    }

    [Fact]
    public async Task Loggers_AreMadeOncePerCategory_AndStillWrite()
    {
        var (app, _) = await StartAsync(Ports.Free());
        await using (app)
        {
            var factory = app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>();

            // Authentication handlers are made per request and each asks for its logger: that must not make a new one.
            var first = factory.CreateLogger("FanVote.ServiceDefaults.Auth.FanSessionHandler");
            Assert.Same(first, factory.CreateLogger("FanVote.ServiceDefaults.Auth.FanSessionHandler"));
            Assert.NotSame(first, factory.CreateLogger("another category"));
            Assert.True(first.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information), "the cached logger is still Serilog's, at its level");
        }
    }

    [Fact]
    public async Task Health_NoSidecar_AliveButNotReady()
    {
        var (app, url) = await StartAsync(Ports.Free());
        await using var _ = app;
        var ct = TestContext.Current.CancellationToken;

        using var alive = await Http.GetAsync(new Uri(url + "/alive"), ct);
        using var ready = await Http.GetAsync(new Uri(url + "/healthz"), ct);

        using var detailed = await Http.SendAsync(Get(url + "/healthz", TestKeys.AppToken(AppId)), ct);

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var anonymous = JsonDocument.Parse(await ready.Content.ReadAsStringAsync(ct));
        Assert.False(anonymous.RootElement.TryGetProperty("checks", out JsonElement hidden) && hidden.ValueKind != JsonValueKind.Undefined, "a caller without the app token must see the status only, not which checks fail and why");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, detailed.StatusCode);
        using var doc = JsonDocument.Parse(await detailed.Content.ReadAsStringAsync(ct));
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

        using var anonymous = await Http.GetAsync(new Uri(url + "/metrics"), ct);
        using var r = await Http.SendAsync(Get(url + "/metrics", TestKeys.AppToken(AppId), bearer: true), ct);
        var text = await r.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.DoesNotContain("fanvote_defaults_test", await anonymous.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Matches("""(?m)^fanvote_defaults_test_things_total(\{[^}]*otel_scope_name="FanVote\.DefaultsTest"[^}]*\})? 3( \d+)?$""", text);
    }

    [Fact]
    public async Task Errors_UnhandledException_IsProblemJsonWithoutInternals()
    {
        var (app, url) = await StartAsync(Ports.Free());
        await using var _ = app;
        var ct = TestContext.Current.CancellationToken;

        using var r = await Http.SendAsync(Get(url + "/boom", TestKeys.AppToken(AppId)), ct);
        var body = await r.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("kaputt", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppToken_InternalRoute_OnlyWithThisAppsToken()
    {
        var (app, url) = await StartAsync(Ports.Free());
        await using var _ = app;
        var ct = TestContext.Current.CancellationToken;

        using var none = await Http.SendAsync(Get(url + "/internal/thing"), ct);
        using var wrong = await Http.SendAsync(Get(url + "/internal/thing", TestKeys.AppToken("another-app")), ct);
        using var prefix = await Http.SendAsync(Get(url + "/internal/thing", TestKeys.AppToken(AppId)[..^1]), ct);
        using var subscribe = await Http.SendAsync(Get(url + "/dapr/subscribe"), ct);
        using var header = await Http.SendAsync(Get(url + "/internal/thing", TestKeys.AppToken(AppId)), ct);
        using var bearer = await Http.SendAsync(Get(url + "/internal/thing", TestKeys.AppToken(AppId), bearer: true), ct);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, prefix.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, subscribe.StatusCode);
        Assert.Equal(HttpStatusCode.OK, header.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Equal("sidecar only", await header.Content.ReadAsStringAsync(ct));
    }

    [Fact]
    public async Task UnknownRoute_WithoutToken_Is404NotAMapOfInternalRoutes()
    {
        var (app, url) = await StartAsync(Ports.Free());
        await using var _ = app;
        var ct = TestContext.Current.CancellationToken;

        using var unknown = await Http.SendAsync(Get(url + "/no/such/route"), ct);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Theory]
    [InlineData("{\"text\":")]
    [InlineData("not json at all")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")]
    public async Task MalformedJson_PublicEndpoint_Is400ProblemNot500(string body)
    {
        var (app, url) = await StartAsync(Ports.Free());
        await using var _ = app;
        var ct = TestContext.Current.CancellationToken;

        using var r = await Http.PostAsync(new Uri(url + "/v1/public-echo"), new StringContent(body, System.Text.Encoding.UTF8, "application/json"), ct);
        using var ok = await Http.PostAsync(new Uri(url + "/v1/public-echo"), new StringContent("{\"text\":\"hi\"}", System.Text.Encoding.UTF8, "application/json"), ct);

        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Theory]
    [InlineData(null, "127.0.0.1")]
    [InlineData("", "127.0.0.1")]
    [InlineData("10.0.0.0/8, 192.168.0.0/16", "127.0.0.1")]
    [InlineData("10.0.0.0/8, 127.0.0.1/32", "203.0.113.9")]
    public async Task ForwardedFor_BelievedOnlyFromATrustedProxy_NoneWhenNoneIsConfigured(string? trustedProxies, string clientAddress)
    {
        var (app, url) = await StartAsync(Ports.Free(), c => c[FanVoteDefaults.TrustedProxiesSetting] = trustedProxies);
        await using var _ = app;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url + "/v1/client-address"));
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");

        using var r = await Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(clientAddress, await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("too-short")]
    public async Task Start_WithoutAppToken_Refuses(string? token)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(Ports.Free(), c => c["APP_API_TOKEN"] = token));

        Assert.Contains("APP_API_TOKEN", e.Message, StringComparison.Ordinal);
    }
}
