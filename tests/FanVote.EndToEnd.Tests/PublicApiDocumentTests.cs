using System.Net;
using System.Text.Json;
using FanVote.EndToEnd.Tests.Attacks;
using FanVote.Testing;

namespace FanVote.EndToEnd.Tests;

/// <summary>
/// The OpenAPI documents of the public APIs (ServiceDefaults' PublicApiDocument), read as a stranger holding no secret
/// would, from the running system of the attack suite: each host documents exactly its public routes (none of the
/// sidecar's), each with who may call it and the problems it answers, and what each route really answers a caller
/// without credentials is in its document. The rendered reference page shows the operations in a real browser.
/// </summary>
[Collection(AttackSystem.Name)]
public sealed class PublicApiDocumentTests(AttackRig rig, ITestOutputHelper output)
{
    private const string Anyone = "";
    private const string Fan = "fanSession";
    private const string Operator = "operatorKey";

    /// <summary>
    /// A client from another loopback address (127.0.0.2): a stranger of its own, so its keyless calls to the operator API
    /// count against its own address in the operator key's throttle, not against the rig's 127.0.0.1.
    /// </summary>
    private static readonly HttpClient Stranger = new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Every public route of each host: method, path, who may call it, the problems it answers (besides 401/429 of its caller's scheme).</summary>
    private static readonly Dictionary<string, (string Method, string Path, string Caller, int[] Problems)[]> Expected = new()
    {
        ["ingress"] =
        [
            ("POST", "/v1/sessions/guest", Anyone, [400, 403, 409, 413, 429, 503]),
            ("POST", "/v1/sessions/otp", Anyone, [400, 413, 429]),
            ("POST", "/v1/sessions/otp/verify", Anyone, [400, 401, 403, 409, 413, 429, 503]),
            ("POST", "/v1/sessions/refresh", Fan, [401, 403, 413]),
            ("POST", "/v1/windows/{windowId}/votes", Fan, [400, 401, 403, 404, 409, 413, 422, 429, 503]),
            ("POST", "/v1/challenges/{challengeId}", Fan, [400, 401, 403, 404, 413, 422]),
            ("GET", "/v1/privacy/terms", Anyone, []),
            ("GET", "/v1/me/consent", Fan, [401, 403]),
            ("PUT", "/v1/me/consent", Fan, [400, 401, 403, 409, 413, 503]),
            ("POST", "/v1/me/guardian", Fan, [400, 401, 403, 409, 413, 429]),
            ("POST", "/v1/me/guardian/verify", Fan, [400, 401, 403, 409, 413, 429]),
            ("GET", "/v1/consent", Operator, [400, 401, 429]),
        ],
        ["results"] =
        [
            ("GET", "/v1/windows", Anyone, []),
            ("GET", "/v1/windows/{windowId}/results", Anyone, [404]),
            ("GET", "/v1/windows/{windowId}/results/stream", Anyone, [404, 429]),
            ("GET", "/v1/windows/{windowId}/certified", Anyone, [404]),
            ("GET", "/v1/windows/{windowId}/receipts/{voteId}", Anyone, [400, 404, 503]),
            ("GET", "/v1/certification-key", Anyone, []),
        ],
        ["rewards"] =
        [
            ("GET", "/v1/me/balance", Fan, [401, 403]),
            ("GET", "/v1/me/statement", Fan, [400, 401, 403]),
            ("POST", "/v1/wheels", Operator, [400, 401, 409, 413, 429]),
            ("POST", "/v1/wheels/{wheelId}/close", Operator, [401, 404, 429]),
            ("GET", "/v1/wheels/{wheelId}/report", Operator, [401, 404, 429]),
            ("GET", "/v1/wheels/{wheelId}", Anyone, [404]),
            ("POST", "/v1/wheels/{wheelId}/spins", Fan, [400, 401, 403, 404, 409, 413, 503]),
            ("GET", "/v1/me/spins", Fan, [400, 401, 403]),
            ("POST", "/v1/raffles", Operator, [400, 401, 409, 413, 429, 503]),
            ("POST", "/v1/raffles/{raffleId}/draw", Operator, [401, 404, 409, 429, 503]),
            ("GET", "/v1/raffles/{raffleId}/report", Operator, [401, 404, 429]),
            ("GET", "/v1/raffles/{raffleId}", Anyone, [404]),
            ("GET", "/v1/raffles/{raffleId}/entries", Anyone, [404, 409]),
            ("POST", "/v1/raffles/{raffleId}/entries", Fan, [400, 401, 403, 404, 409, 413, 503]),
            ("GET", "/v1/tiers", Anyone, []),
            ("GET", "/v1/me/tier", Fan, [401, 403]),
            ("POST", "/v1/polls", Operator, [400, 401, 409, 413, 429]),
            ("POST", "/v1/polls/{pollId}/close", Operator, [401, 404, 429]),
            ("GET", "/v1/polls/{pollId}/report", Operator, [401, 404, 429]),
            ("GET", "/v1/polls/{pollId}", Anyone, [404]),
            ("POST", "/v1/polls/{pollId}/answers", Fan, [400, 401, 403, 404, 409, 413]),
            ("POST", "/v1/trivia", Operator, [400, 401, 409, 413, 429, 503]),
            ("GET", "/v1/trivia/{roundId}", Anyone, [404]),
            ("GET", "/v1/trivia/{roundId}/leaderboard", Anyone, [404]),
            ("POST", "/v1/trivia/{roundId}/answers", Fan, [400, 401, 403, 404, 409, 413]),
            ("GET", "/v1/live", Anyone, []),
        ],
        ["orchestrator"] =
        [
            ("GET", "/v1/windows", Operator, [401, 429]),
            ("POST", "/v1/windows", Operator, [400, 401, 409, 413, 429]),
            ("GET", "/v1/windows/{windowId}", Operator, [401, 404, 429]),
            ("GET", "/v1/windows/{windowId}/watch", Operator, [401, 404, 429]),
            ("POST", "/v1/windows/{windowId}/continue", Operator, [401, 404, 409, 429]),
            ("GET", "/v1/windows/{windowId}/audit", Operator, [401, 404, 429]),
            ("GET", "/v1/windows/{windowId}/certified", Operator, [401, 404, 429]),
            ("GET", "/v1/actions", Operator, [400, 401, 429]),
            ("GET", "/v1/me/data", Fan, [401, 409, 422]),
            ("DELETE", "/v1/me", Fan, [401, 422]),
            ("GET", "/v1/me/erasure", Fan, [401, 404]),
            ("GET", "/v1/erasures/{requestId}", Anyone, [404]),
        ],
    };

    private PipelineRig Pipeline => rig.Pipeline;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Hosts => ["ingress", "results", "rewards", "orchestrator"];

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task EachHost_DocumentsExactlyItsPublicRoutes_WithWhoMayCallThem_AndTheirProblems(string host)
    {
        using var doc = await DocumentAsync(host);
        var root = doc.RootElement;
        Assert.StartsWith("3.", root.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("FanVote", root.GetProperty("info").GetProperty("title").GetString(), StringComparison.Ordinal);

        var documented = Operations(root).ToList();
        Assert.Equal(
            Expected[host].Select(e => $"{e.Method} {e.Path}").Order(StringComparer.Ordinal),
            documented.Select(o => $"{o.Method} {o.Path}").Order(StringComparer.Ordinal));

        foreach (var (method, path, caller, problems) in Expected[host])
        {
            var op = documented.Single(o => o.Method == method && o.Path == path).Operation;
            var what = $"{host}: {method} {path}";
            Assert.False(string.IsNullOrWhiteSpace(op.TryGetProperty("summary", out var s) ? s.GetString() : null), $"{what} has no summary");

            var schemes = op.TryGetProperty("security", out var security)
                ? security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToList()
                : [];
            Assert.Equal(caller == Anyone ? [] : new List<string> { caller }, schemes);
            if (caller != Anyone)
            {
                Assert.True(root.GetProperty("components").GetProperty("securitySchemes").TryGetProperty(caller, out _), $"{what}: scheme {caller} is not defined");
            }

            var responses = op.GetProperty("responses");
            var problemStatuses = responses.EnumerateObject()
                .Where(r => r.Value.TryGetProperty("content", out var c) && c.TryGetProperty("application/problem+json", out _))
                .Select(r => int.Parse(r.Name, System.Globalization.CultureInfo.InvariantCulture))
                .Order()
                .ToArray();
            Assert.True(problems.Order().SequenceEqual(problemStatuses), $"{what}: documented problems [{string.Join(", ", problemStatuses)}], expected [{string.Join(", ", problems.Order())}]");
            Assert.Contains(responses.EnumerateObject(), r => r.Name.StartsWith('2') || r.Name.StartsWith('3'));
        }

        // Nothing for the sidecar only is described (subscriptions, actor and workflow callbacks, metrics).
        var text = root.GetRawText();
        foreach (var internalRoute in new[] { "/window-events", "/window-reports", "/window-requests", "/risk-verdicts", "/reward-requests", "/tally-updated", "/dapr", "/actors", "/metrics", "\"/votes\"" })
        {
            Assert.DoesNotContain(internalRoute, text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task WhatEachRouteAnswersAStranger_IsInItsDocument(string host)
    {
        using var doc = await DocumentAsync(host);
        foreach (var (method, path, _) in Operations(doc.RootElement))
        {
            // No credentials, ids that name nothing, no body: the answer is a success or a problem the document lists.
            var url = BaseUrl(host) + path.Replace("{windowId}", "no-such-window", StringComparison.Ordinal)
                .Replace("{wheelId}", "no-such-wheel", StringComparison.Ordinal)
                .Replace("{raffleId}", "no-such-raffle", StringComparison.Ordinal)
                .Replace("{pollId}", "no-such-poll", StringComparison.Ordinal)
                .Replace("{roundId}", "no-such-round", StringComparison.Ordinal)
                .Replace("{challengeId}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
                .Replace("{voteId}", Guid.NewGuid().ToString(), StringComparison.Ordinal);
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method == "POST")
            {
                request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            }

            using var response = await Stranger.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
            var status = (int)response.StatusCode;
            var what = $"{host}: {method} {path} answered a stranger {status}";
            if (status >= 400)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var op = Operations(doc.RootElement).Single(o => o.Method == method && o.Path == path).Operation;
                Assert.True(op.GetProperty("responses").TryGetProperty(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out _), $"{what}, which its document does not list");
            }
            else
            {
                Assert.True(status is >= 200 and < 400, what);
            }

            output.WriteLine(what);
        }
    }

    [Fact]
    public async Task TheDocuments_AreServedToAnyone_AndTheInternalRoutesStayClosed()
    {
        foreach (var host in Hosts.Select(h => h.Data))
        {
            using var r = await Stranger.GetAsync(new Uri(BaseUrl(host) + "/openapi/v1.json"), Ct);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            using var page = await Stranger.GetAsync(new Uri(BaseUrl(host) + "/docs"), Ct);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        }

        // Publishing the document opened nothing else: a sidecar-only route still refuses a stranger.
        using var delivery = await Stranger.PostAsync(new Uri(Pipeline.Ingress.BaseUrl + "/risk-verdicts"), new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, delivery.StatusCode);
    }

    [Fact]
    public async Task TheReferencePage_ShowsTheOperations_InABrowser()
    {
        Assert.True(Chromium.Available, "Debian chromium is needed for this test (./fanvote test installs it)");
        var dir = Directory.CreateTempSubdirectory("fv-api-docs-").FullName;
        foreach (var (host, operation) in new[] { ("ingress", "Vote for a candidate"), ("orchestrator", "Create and schedule a voting window") })
        {
            await using var page = await Chromium.OpenAsync(BaseUrl(host) + "/docs");
            var seen = await page.WaitForAsync($"document.body.innerText.includes({JsonSerializer.Serialize(operation)}).toString()", "true", TimeSpan.FromSeconds(90));
            var file = Path.Combine(dir, $"{host}-docs.png");
            await page.ScreenshotAsync(file);
            output.WriteLine($"{host}: {file}");
            Assert.True(seen == "true", $"{host}'s /docs did not show \"{operation}\" within 90 s; the page read: {await page.EvalAsync("document.body.innerText.slice(0, 300)")}");
        }
    }

    private string BaseUrl(string host) => host switch
    {
        "ingress" => Pipeline.Ingress.BaseUrl,
        "results" => Pipeline.Results.BaseUrl,
        "rewards" => Pipeline.Rewards!.BaseUrl,
        "orchestrator" => Pipeline.Orchestrator.BaseUrl,
        _ => throw new ArgumentOutOfRangeException(nameof(host), host, null),
    };

    private async Task<JsonDocument> DocumentAsync(string host)
    {
        using var r = await Stranger.GetAsync(new Uri(BaseUrl(host) + "/openapi/v1.json"), Ct);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync(Ct));
    }

    private static IEnumerable<(string Method, string Path, JsonElement Operation)> Operations(JsonElement root) =>
        root.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject()
            .Where(m => m.Name is "get" or "post" or "put" or "delete" or "patch")
            .Select(m => (m.Name.ToUpperInvariant(), p.Name, m.Value)));
}
