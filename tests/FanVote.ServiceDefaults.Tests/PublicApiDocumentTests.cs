using System.Globalization;
using System.Net;
using System.Text.Json;
using FanVote.ServiceDefaults.Auth;
using FanVote.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace FanVote.ServiceDefaults.Tests;

/// <summary>
/// The rule of <see cref="PublicApiDocument"/> on a host of its own: the document holds exactly the public, fan and
/// operator routes under /v1, each with its caller's scheme; a route that says nothing about its callers (the sidecar's)
/// is never in it, whatever its path; a host that describes no public API serves no document.
/// </summary>
public sealed class PublicApiDocumentTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task TheDocument_HoldsThePublicFanAndOperatorRoutes_WithTheirSchemes_AndNoRouteOfTheSidecar()
    {
        var (app, url) = await StartAsync(describe: true);
        await using (app)
        {
            using var r = await Http.GetAsync(new Uri(url + PublicApiDocument.Path), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            var ops = doc.RootElement.GetProperty("paths").EnumerateObject()
                .SelectMany(p => p.Value.EnumerateObject().Select(m => (Key: $"{m.Name.ToUpperInvariant()} {p.Name}", Op: m.Value)))
                .ToDictionary(o => o.Key, o => o.Op);

            Assert.Equal(["GET /v1/open", "GET /v1/operators-only", "POST /v1/fans-only"], ops.Keys.Order(StringComparer.Ordinal));
            Assert.False(ops["GET /v1/open"].TryGetProperty("security", out _));
            Assert.Equal(PublicApiDocument.FanScheme, Scheme(ops["POST /v1/fans-only"]));
            Assert.Equal(PublicApiDocument.OperatorScheme, Scheme(ops["GET /v1/operators-only"]));
            Assert.True(Problem(ops["POST /v1/fans-only"], 401), "a fan route documents its 401 problem");
            Assert.True(Problem(ops["GET /v1/operators-only"], 401) && Problem(ops["GET /v1/operators-only"], 429), "an operator route documents 401 and 429");
            Assert.True(Problem(ops["GET /v1/open"], 404), "ProducesProblem on the route is in the document");
            Assert.Equal("FanVote: test host", doc.RootElement.GetProperty("info").GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task AHostWithoutAPublicApi_ServesNoDocument()
    {
        var (app, url) = await StartAsync(describe: false);
        await using (app)
        {
            using var r = await Http.GetAsync(new Uri(url + PublicApiDocument.Path), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            using var page = await Http.GetAsync(new Uri(url + PublicApiDocument.ReferencePath), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        }
    }

    private static string Scheme(JsonElement op) =>
        string.Join(",", op.GetProperty("security").EnumerateArray().SelectMany(s => s.EnumerateObject().Select(p => p.Name)));

    private static bool Problem(JsonElement op, int status) =>
        op.GetProperty("responses").TryGetProperty(status.ToString(CultureInfo.InvariantCulture), out var response)
        && response.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out _);

    private static async Task<(WebApplication App, string Url)> StartAsync(bool describe)
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var config = TestKeys.AppEnvironment("docs-test");
        config["DAPR_HTTP_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture);
        config["DAPR_GRPC_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture);
        builder.Configuration.AddInMemoryCollection(config);
        builder.AddFanVoteDefaults("docs-test");
        builder.AddFanSessions();
        builder.AddOperatorKey();
        if (describe)
        {
            builder.AddPublicApiDocument("FanVote: test host", "routes of every kind");
        }

        var app = builder.Build();
        app.MapGet("/v1/open", () => "hello").AllowAnonymous().WithSummary("open").ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/fans-only", () => "hello").RequireFan();
        app.MapGet("/v1/operators-only", () => "hello").RequireOperator();
        app.MapPost("/v1/sidecar-only", () => "hello"); // says nothing about its callers: the sidecar's
        app.MapPost("/window-events/scheduled", () => "hello");
        app.MapGet("/page", () => "hello").AllowAnonymous(); // public, but not under /v1: not part of the API
        app.MapFanVoteDefaultEndpoints();
        await app.StartAsync(TestContext.Current.CancellationToken);
        return (app, $"http://127.0.0.1:{port}");
    }
}
