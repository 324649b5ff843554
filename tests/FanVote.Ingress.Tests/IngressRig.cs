using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
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
    private static int _ip = 10;

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
        ["Ingress__SignUpAgainAfterErasure"] = "00:00:03", // ErasureTests waits it out
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

    /// <summary>A passcode sign-in (each request from an address of its own, under the per-address limits).</summary>
    public async Task<HttpResponseMessage> PasscodeSignInAsync(string email, int birthYear, object[]? consent)
    {
        // The resend pause after a sign-in's passcode is SignInTrustTests' subject; here a second sign-in follows at once.
        await using (var mux = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Data.Address))
        {
            await foreach (var key in mux.GetServer(Data.Address).KeysAsync(pattern: "ingress:otp-sent:*"))
            {
                await mux.GetDatabase().KeyDeleteAsync(key);
            }
        }

        using (var ask = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions/otp") { Content = JsonContent.Create(new { email }) })
        {
            ask.Headers.Add("X-Forwarded-For", NextAddress());
            using var sent = await Http.SendAsync(ask);
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        }

        var code = await CodeForAsync(email);
        var verify = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions/otp/verify")
        {
            Content = JsonContent.Create(consent is null
                ? new { email, code, deviceId = "d-" + email, birthYear }
                : (object)new { email, code, deviceId = "d-" + email, birthYear, consent }),
        };
        verify.Headers.Add("X-Forwarded-For", NextAddress());
        return await Http.SendAsync(verify);
    }

    public async Task<string> CodeForAsync(string contact)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            seen = File.Exists(OtpOutbox) ? await File.ReadAllTextAsync(OtpOutbox) : "";
            var codes = Regex.Matches(seen, Regex.Escape(contact) + @" (\d{6})");
            if (codes.Count > 0)
            {
                // Take the newest line for this contact, then forget it (a later sign-in gets a new code).
                await File.WriteAllTextAsync(OtpOutbox, seen.Replace(codes[^1].Value, "used", StringComparison.Ordinal));
                return codes[^1].Groups[1].Value;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no passcode for {contact} in the outbox; it holds {seen.Split('\n').Length} lines");
    }

    /// <summary>A client address of its own for each call (under the per-address sign-in limits).</summary>
    public static string NextAddress() => $"198.18.{Interlocked.Increment(ref _ip) / 250}.{_ip % 250 + 1}";

    /// <summary>The account id inside a token (its payload is signed, not encrypted).</summary>
    public static string AccountOf(string token) =>
        JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(token.Split('.')[2])).RootElement.GetProperty("sub").GetString()!;

    /// <summary>Asserts <paramref name="r"/> is problem+json with <paramref name="status"/> and returns the problem.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage r, HttpStatusCode status)
    {
        var text = await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(r.StatusCode == status, $"expected {(int)status}, got {(int)r.StatusCode}: {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement;
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
