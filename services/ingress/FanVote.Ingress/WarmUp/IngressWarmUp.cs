using System.Globalization;
using System.Net.Http.Headers;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using FanVote.Ingress.Publishing;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FanVote.Ingress.WarmUp;

/// <summary>
/// Ingress's hot path, run before /healthz says ready, touching nothing a fan, a metric or an audit can see:
/// <list type="bullet">
/// <item>the vote endpoint itself, in-process: its own request delegate (body read, the fan's session token checked by
/// the session scheme, the decision, the 202 and its JSON) on an <see cref="HttpContext"/> whose services give a
/// <see cref="VoteDesk"/> of the warm-up's own and an <see cref="IngressMetrics"/> on a meter that is not exported (the
/// accepted counter is compared with the certified count). The desk decides for a window only it knows (its id holds a
/// ':', which no real window id can, <see cref="Ids"/>), with the real admission store (Redis keys under that window,
/// removed at the end), receipts and seal; its votes go through a <see cref="VoteBatcher"/> of its own to
/// <see cref="Topic"/>, which the components' allowedTopics refuse, so no broker is touched (a region without
/// allowedTopics would get them on that topic, which nothing reads); then each is committed as a published one is;</item>
/// <item>the HTTP path over loopback: Kestrel, the session token check, routing, the body and a problem answer, with a
/// token signed here for a random window id no one has (404 "unknown-window", counted among refusals).</item>
/// </list>
/// </summary>
public sealed class IngressWarmUp(
    IAdmissionStore admission, VerdictCache verdicts, IngressKeys keys, IOptions<IngressOptions> options, TimeProvider time,
    DaprClient dapr, SessionTokens tokens, WindowBook realWindows, Microsoft.AspNetCore.Hosting.Server.IServer server, IHttpClientFactory http, IConnectionMultiplexer redis,
    EndpointDataSource endpoints, IServiceProvider services, ILogger<IngressWarmUp> log)
    : IWarmUpStep
{
    /// <summary>A topic outside every region's allowedTopics: the sidecar refuses it before any broker sees it.</summary>
    public const string Topic = "fanvote-warm-up";

    /// <summary>The warm-up's meter: outside "FanVote.*", so nothing it counts is exported.</summary>
    public const string MeterName = "WarmUp.FanVote.Ingress";

    /// <summary>Refused requests in flight at once over loopback.</summary>
    private const int HttpConcurrency = 8;
    private static readonly string[] Candidates = ["warm-a", "warm-b"];
    private static readonly byte[][] Bodies = [.. Candidates.Select(c => System.Text.Encoding.UTF8.GetBytes($"{{\"candidateId\":\"{c}\"}}"))];

    public string Name => "ingress vote path";

    public async Task RunAsync(CancellationToken runFor)
    {
        var window = "warm-up:" + Guid.NewGuid().ToString("N");
        var decided = 0;
        try
        {
            var accept = EndpointPathAsync(window, () => Interlocked.Increment(ref decided) - 1, runFor);
            var web = HttpPathAsync(runFor);
            await Task.WhenAll(accept, web);
            var accepted = await accept;
            var statuses = string.Join(", ", (await web).OrderBy(s => s.Key).Select(s => $"{s.Value} × {s.Key}"));
            var votes = Volatile.Read(ref decided);
            IngressLog.WarmedUp(log, accepted, votes, statuses);
        }
        finally
        {
            await CleanUpAsync(window, Volatile.Read(ref decided));
        }
    }

    /// <summary>The vote endpoint's request delegate until <paramref name="runFor"/> ends, vote number <paramref name="next"/>() each; returns how many it answered 202.</summary>
    private async Task<int> EndpointPathAsync(string window, Func<int> next, CancellationToken runFor)
    {
        var endpoint = endpoints.Endpoints.OfType<RouteEndpoint>().FirstOrDefault(e =>
            e.RoutePattern.RawText == VoteEndpoints.Route && e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(HttpMethods.Post) == true);
        if (endpoint?.RequestDelegate is not { } vote)
        {
            return 0;
        }

        var accepted = 0;
        var o = options.Value;
        var now = time.GetUtcNow();
        var book = new WindowBook();
        book.Upsert(new WindowSchedule(window, Candidates, now.AddMinutes(-1), now.AddMinutes(2), 1));
        using var metrics = new IngressMetrics(MeterName);
        var batcher = new VoteBatcher(dapr, admission, options, metrics, NullLogger<VoteBatcher>.Instance, Topic);
        await batcher.StartAsync(CancellationToken.None);
        try
        {
            var desk = new VoteDesk(book, verdicts, admission, new Publisher(batcher, admission), keys.Receipts, keys.Seal,
                o.DeskOptions(), time);
            await RepeatAsync(o.WarmUpConcurrency, next, async i =>
            {
                // A scope per request, as ASP.NET Core makes (the authentication handlers are per request).
                await using var requestScope = services.CreateAsyncScope();
                var ctx = new DefaultHttpContext { RequestServices = new WarmUpServices(requestScope.ServiceProvider, desk, metrics) };

                // Each vote from its own account, device and documentation-range network (2001:db8::/32, never routed).
                ctx.Request.Method = HttpMethods.Post;
                ctx.Request.Path = $"/v1/windows/{window}/votes";
                ctx.Request.RouteValues["windowId"] = window;
                ctx.Request.Headers.Authorization = "Bearer " + tokens.Issue(Account(i), $"warm-up-{i}", SessionKind.Guest, now.AddDays(-30), FanConsent.Voting);
                ctx.Request.Headers["Idempotency-Key"] = $"warm-up-{i}";
                ctx.Request.ContentType = "application/json";
                var body = Bodies[i % 2];
                ctx.Request.ContentLength = body.Length;
                ctx.Request.Body = new MemoryStream(body, writable: false);
                ctx.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"2001:db8:{i:x}::1"));
                ctx.Response.Body = new MemoryStream();
                ctx.SetEndpoint(endpoint);
                if ((await ctx.AuthenticateAsync(FanVoteAuth.FanScheme)).Succeeded)
                {
                    await vote(ctx);
                    if (ctx.Response.StatusCode == StatusCodes.Status202Accepted)
                    {
                        Interlocked.Increment(ref accepted);
                    }
                }
            }, runFor);
        }
        finally
        {
            await batcher.StopAsync(CancellationToken.None);
            batcher.Dispose();
        }

        return accepted;
    }

    /// <summary>The HTTP path until <paramref name="runFor"/> ends; returns the answers by status code.</summary>
    private async Task<Dictionary<int, int>> HttpPathAsync(CancellationToken runFor)
    {
        var statuses = new Dictionary<int, int>();
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal));
        if (address is null)
        {
            return statuses;
        }

        var uri = new UriBuilder(address);
        if (uri.Host is "0.0.0.0" or "[::]" or "+" or "*" or "localhost")
        {
            uri.Host = "127.0.0.1";
        }

        var window = "warm-up-" + Guid.NewGuid().ToString("N");
        if (realWindows.Find(window) is not null)
        {
            return statuses;
        }

        var url = new Uri(uri.Uri, $"/v1/windows/{window}/votes");
        var token = tokens.Issue("warm-up-http", "warm-up-http", SessionKind.Guest, time.GetUtcNow().AddDays(-30), FanConsent.Voting);
        using var client = http.CreateClient("warm-up");
        var sent = -1;
        await RepeatAsync(HttpConcurrency, () => Interlocked.Increment(ref sent), async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StringContent("{\"candidateId\":\"warm-a\"}", new MediaTypeHeaderValue("application/json")),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("Idempotency-Key", $"warm-up-{i}");
            using var response = await client.SendAsync(request, CancellationToken.None);
            await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            lock (statuses)
            {
                statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
            }
        }, runFor);
        return statuses;
    }

    /// <summary><paramref name="loops"/> loops, each running <paramref name="once"/>(<paramref name="next"/>()) until <paramref name="runFor"/> ends.</summary>
    private static Task RepeatAsync(int loops, Func<int> next, Func<int, Task> once, CancellationToken runFor) =>
        Task.WhenAll(Enumerable.Range(0, loops).Select(async _ =>
        {
            while (!runFor.IsCancellationRequested)
            {
                await once(next());
            }
        }));

    private async Task CleanUpAsync(string window, int votes)
    {
        var db = redis.GetDatabase();
        var keysToDelete = new List<RedisKey> { RedisAdmissionStore.AcceptedKey(window), RedisAdmissionStore.UnconfirmedKey(window) };
        keysToDelete.AddRange(Enumerable.Range(0, votes).Select(i => (RedisKey)RedisAdmissionStore.AccountKey(window, Account(i))));
        foreach (var chunk in keysToDelete.Chunk(500))
        {
            await db.KeyDeleteAsync(chunk);
        }
    }

    private static string Account(int i) => $"warm-up-{i}";

    /// <summary>
    /// The warm-up's votes go through a <see cref="VoteBatcher"/> of its own (its queue, group commit and bulk publish
    /// over gRPC, refused by the sidecar, so each comes back unconfirmed), then are committed as a published vote is,
    /// so the desk answers 202 as it does for a fan.
    /// </summary>
    private sealed class Publisher(VoteBatcher batcher, IAdmissionStore admission) : IVotePublisher
    {
        public async Task<bool> PublishAsync(VoteAccepted vote, VoteCommit commit)
        {
            await batcher.PublishAsync(vote, commit);
            await admission.CommitAsync([commit], CancellationToken.None);
            return true;
        }
    }

    /// <summary>The app's services, but the warm-up's desk and metrics for the vote endpoint.</summary>
    private sealed class WarmUpServices(IServiceProvider app, VoteDesk desk, IngressMetrics metrics) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(VoteDesk) ? desk : serviceType == typeof(IngressMetrics) ? metrics : app.GetService(serviceType);
    }
}
