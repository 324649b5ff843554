using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;
using StackExchange.Redis;

namespace FanVote.Ingress.Tests;

/// <summary>
/// Ingress beside its sidecar. The broker (vote-bus) and ingress's own data live on two private Redis servers,
/// so a test can take the broker down while admission keeps working. A sidecar with app id `orchestrator`
/// publishes window schedules, one with app id `fraud` risk verdicts (pub/sub scopes allow nothing else). The client
/// address comes from X-Forwarded-For (loopback is the trusted proxy here), and the sign-in limits are raised for tests
/// that sign many fans in from one address; passcodes go to an outbox file.
/// </summary>
public class IngressRig : IAsyncLifetime
{
    private readonly ResourceFolder _resources = ResourceFolder.LocalComponents();

    public RedisServer Bus { get; private set; } = null!;

    public RedisServer Data { get; private set; } = null!;

    public ServiceHost Ingress { get; private set; } = null!;

    public SidecarHost OrchestratorSide { get; private set; } = null!;

    public DaprClient Orchestrator { get; private set; } = null!;

    /// <summary>Publishes as the fraud service (risk verdicts).</summary>
    public DaprClient Fraud { get; private set; } = null!;

    private Publishers _others = null!;

    /// <summary>Where the development notifier writes passcodes ("contact code" lines).</summary>
    public string OtpOutbox { get; } = Path.Combine(Path.GetTempPath(), "fv-otp-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Settings every ingress of these tests gets (a subclass's AppSettings win).</summary>
    public Dictionary<string, string?> BaseSettings => new()
    {
        ["FANVOTE_TRUSTED_PROXIES"] = "127.0.0.1/32",
        ["Ingress__OtpOutbox"] = OtpOutbox,
        ["Ingress__SignIn__GuestPerIpPerMinute"] = "100000",
        ["Ingress__SignIn__GuestPerIpPerDay"] = "100000",
        ["Ingress__SignIn__GuestPerPrefixPerMinute"] = "100000",
        ["Ingress__VerdictSweepInterval"] = "00:00:01",
    };

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    protected virtual Dictionary<string, string?> AppSettings => [];

    public async ValueTask InitializeAsync()
    {
        Bus = await RedisServer.StartAsync();
        Data = await RedisServer.StartAsync();
        var appEnv = new Dictionary<string, string?>(BaseSettings);
        foreach (var (k, v) in AppSettings)
        {
            appEnv[k] = v;
        }

        appEnv["FANVOTE_REDIS_HOST"] = Data.Address;
        Ingress = new ServiceHost(AppIds.Ingress, "FanVote.Ingress", _resources.Path, appEnv: appEnv, redisHost: Bus.Address);
        var env = TestKeys.SidecarEnvironment(AppIds.Orchestrator);
        env["FANVOTE_REDIS_HOST"] = Bus.Address;
        OrchestratorSide = new SidecarHost(AppIds.Orchestrator, _resources.Path, env: env);
        _others = new Publishers(_resources.Path, Bus.Address, FanVoteJson.Options);
        await Task.WhenAll(Ingress.StartAsync(), OrchestratorSide.StartAsync());
        Orchestrator = OrchestratorSide.Client(FanVoteJson.Options);
        Fraud = await _others.AsAsync(AppIds.Fraud);
        Http.BaseAddress = new Uri(Ingress.BaseUrl);
    }

    /// <summary>Publishes the schedule and waits until ingress knows it (a vote no longer gets 404).</summary>
    public async Task ScheduleAsync(string window, DateTimeOffset opensAt, DateTimeOffset closesAt, int votesPerAccount = 10, params string[] candidates)
    {
        await Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowEvents, new WindowScheduled
        {
            EventId = Guid.NewGuid(),
            OccurredAt = DateTimeOffset.UtcNow,
            WindowId = window,
            Title = window,
            Candidates = candidates.Length > 0 ? candidates : ["a", "b", "c"],
            OpensAt = opensAt,
            ClosesAt = closesAt,
            VotesPerAccount = votesPerAccount,
        }, new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.WindowScheduled });
        var token = await GuestAsync("probe-" + Guid.NewGuid().ToString("N")[..6]);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            using var r = await VoteAsync(window, token, "", body: "{}");
            if (r.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"ingress never learned window {window}");
    }

    public async Task<string> GuestAsync(string deviceId)
    {
        using var r = await Http.PostAsJsonAsync("/v1/sessions/guest", new { deviceId, consent = TestConsent.Voting });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public async Task<HttpResponseMessage> VoteAsync(string window, string? token, string? idempotencyKey, string candidate = "a", string? body = null, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes")
        {
            Content = new StringContent(body ?? JsonSerializer.Serialize(new { candidateId = candidate }), System.Text.Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (!string.IsNullOrEmpty(idempotencyKey))
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return await Http.SendAsync(request);
    }

    /// <summary>
    /// A vote as a fan's app sends it: a 503 (the broker's acknowledgement late, on a loaded machine) is retried with the
    /// same Idempotency-Key until another answer comes, as the 503's problem says to.
    /// </summary>
    public async Task<HttpResponseMessage> VoteAnsweredAsync(string window, string token, string idempotencyKey, string candidate = "a")
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var r = await VoteAsync(window, token, idempotencyKey, candidate);
            if (r.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                return r;
            }

            r.Dispose();
            await Task.Delay(500);
        }
    }

    /// <summary>Vote ids on the `votes` stream for <paramref name="window"/> (with repeats, if any).</summary>
    public async Task<List<Guid>> PublishedAsync(string window)
    {
        await using var mux = await TestRedis.ConnectAsync(Bus.Address);
        var ids = new List<Guid>();
        foreach (var e in await mux.GetDatabase().StreamRangeAsync(Topics.Votes))
        {
            using var ce = JsonDocument.Parse((string)e["data"]!);
            var data = ce.RootElement.GetProperty("data");
            if (data.GetProperty("windowId").GetString() == window)
            {
                ids.Add(data.GetProperty("voteId").GetGuid());
            }
        }

        return ids;
    }

    public async ValueTask DisposeAsync()
    {
        Orchestrator?.Dispose();
        Http.Dispose();
        if (_others is not null)
        {
            await _others.DisposeAsync();
        }

        File.Delete(OtpOutbox);
        foreach (var d in new IAsyncDisposable?[] { OrchestratorSide, Ingress, Bus, Data })
        {
            if (d is not null)
            {
                await d.DisposeAsync();
            }
        }

        _resources.Dispose();
        GC.SuppressFinalize(this);
    }
}
