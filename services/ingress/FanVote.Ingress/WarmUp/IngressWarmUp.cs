using System.Globalization;
using System.Net.Http.Headers;
using Dapr;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FanVote.Ingress.WarmUp;

/// <summary>
/// Ingress's hot path, run before /healthz says ready, touching nothing a fan or an audit can see:
/// <list type="bullet">
/// <item>the accept path in-process: a <see cref="VoteDesk"/> of its own over a window only it knows (its id holds a ':',
/// which no real window id can, <see cref="Ids"/>), with the real admission store (Redis keys under that window, removed
/// at the end), receipts and seal; its publisher sends to <see cref="Topic"/>, which the components' allowedTopics refuse,
/// so no broker is touched (a region without allowedTopics would get them on that topic, which nothing reads), then
/// commits as the real one does;</item>
/// <item>the HTTP path over loopback: Kestrel, the session token check, routing, the body and a problem answer, with a
/// token signed here for a random window id no one has (404 "unknown-window", counted among refusals).</item>
/// </list>
/// </summary>
public sealed class IngressWarmUp(
    IAdmissionStore admission, VerdictCache verdicts, IngressKeys keys, IOptions<IngressOptions> options, TimeProvider time,
    DaprClient dapr, SessionTokens tokens, WindowBook realWindows, Microsoft.AspNetCore.Hosting.Server.IServer server, IHttpClientFactory http, IConnectionMultiplexer redis,
    ILogger<IngressWarmUp> log)
    : IWarmUpStep
{
    /// <summary>A topic outside every region's allowedTopics: the sidecar refuses it before any broker sees it.</summary>
    public const string Topic = "fanvote-warm-up";

    private const int Concurrency = 8;
    private static readonly string[] Candidates = ["warm-a", "warm-b"];

    public string Name => "ingress vote path";

    public async Task RunAsync(CancellationToken runFor)
    {
        var window = "warm-up:" + Guid.NewGuid().ToString("N");
        var decided = 0;
        try
        {
            var accept = AcceptPathAsync(window, () => Interlocked.Increment(ref decided) - 1, runFor);
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

    /// <summary>The accept path until <paramref name="runFor"/> ends, vote number <paramref name="next"/>() each; returns how many it accepted.</summary>
    private async Task<int> AcceptPathAsync(string window, Func<int> next, CancellationToken runFor)
    {
        var accepted = 0;
        var o = options.Value;
        var now = time.GetUtcNow();
        var book = new WindowBook();
        book.Upsert(new WindowSchedule(window, Candidates, now.AddMinutes(-1), now.AddMinutes(2), 1));
        var desk = new VoteDesk(book, verdicts, admission, new Publisher(dapr, admission), keys.Receipts, keys.Seal,
            new VoteDeskOptions(new RateLimits(o.PerAccountPerSecond, o.PerDevicePerSecond, o.PerIpPrefixPerSecond), o.RepublishAfterClose), time);
        await RepeatAsync(next, async i =>
        {
            // Each vote from its own account, device and documentation-range network (2001:db8::/32, never routed).
            var fan = new SessionClaims(Account(i), $"warm-up-{i}", SessionKind.Guest, now, now.AddHours(1), now.AddDays(-30), now);
            var ip = string.Create(CultureInfo.InvariantCulture, $"2001:db8:{i:x}::1");
            if (await desk.DecideAsync(new VoteRequest(window, fan, Candidates[i % 2], $"warm-up-{i}", ip), CancellationToken.None) is VoteDecision.Accepted)
            {
                Interlocked.Increment(ref accepted);
            }
        }, runFor);
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
        var token = tokens.Issue("warm-up-http", "warm-up-http", SessionKind.Guest, time.GetUtcNow().AddDays(-30));
        using var client = http.CreateClient("warm-up");
        var sent = -1;
        await RepeatAsync(() => Interlocked.Increment(ref sent), async i =>
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

    /// <summary><see cref="Concurrency"/> loops, each running <paramref name="once"/>(<paramref name="next"/>()) until <paramref name="runFor"/> ends.</summary>
    private static Task RepeatAsync(Func<int> next, Func<int, Task> once, CancellationToken runFor) =>
        Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
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

    /// <summary>As <see cref="Publishing.VoteBatcher"/> does for a batch: publish (refused here, by design), then commit.</summary>
    private sealed class Publisher(DaprClient dapr, IAdmissionStore admission) : IVotePublisher
    {
        private int _published;

        public async Task<bool> PublishAsync(VoteAccepted vote, VoteCommit commit)
        {
            // One vote in ten goes to the sidecar: enough calls for the JIT, few refusals in the sidecar's log.
            if (Interlocked.Increment(ref _published) % 10 == 0)
            {
                try
                {
                    await dapr.BulkPublishEventAsync(ComponentNames.VoteBus, Topic, new List<VoteAccepted> { vote });
                }
                catch (DaprException)
                {
                    // The expected answer: the topic is not allowed.
                }
            }

            await admission.CommitAsync([commit], CancellationToken.None);
            return true;
        }
    }
}
