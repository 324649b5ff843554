using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FanVote.Security;
using FanVote.Testing;
using StackExchange.Redis;

namespace FanVote.Ingress.Tests;

/// <summary>
/// Ingress with small sign-in limits, and only 127.0.0.2 as trusted proxy: the rig's own client (127.0.0.1) is an
/// untrusted peer whose X-Forwarded-For must be ignored, a client bound to 127.0.0.2 plays the reverse proxy. Each test
/// speaks through the proxy from its own client addresses, so its limits are its own.
/// </summary>
public sealed class SignInTrustRig : IngressRig
{
    public const string ProxyAddress = "127.0.0.2";

    public const int GuestPerMinute = 3;

    public const int GuestPerDay = 5;

    public const int OtpPerMinute = 3;

    public const int OtpPerDay = 5;

    public const int OtpPerContactPerDay = 4;

    protected override Dictionary<string, string?> AppSettings => new()
    {
        ["FANVOTE_TRUSTED_PROXIES"] = ProxyAddress + "/32",
        ["Ingress__SignIn__GuestPerIpPerMinute"] = $"{GuestPerMinute}",
        ["Ingress__SignIn__GuestPerIpPerDay"] = $"{GuestPerDay}",
        ["Ingress__SignIn__OtpPerIpPerMinute"] = $"{OtpPerMinute}",
        ["Ingress__SignIn__OtpPerIpPerDay"] = $"{OtpPerDay}",
        ["Ingress__SignIn__OtpPerContactPerDay"] = $"{OtpPerContactPerDay}",
    };
}

/// <summary>
/// The sign-in protections: passcode and guest limits (429, nothing sent or created), X-Forwarded-For only from a trusted
/// proxy, 4 KB bodies (413), control characters refused (400, nothing written), token refresh and its maximum session age.
/// </summary>
public sealed class SignInTrustTests(SignInTrustRig rig) : IClassFixture<SignInTrustRig>, IDisposable
{
    private static readonly TimeSpan Year = TimeSpan.FromDays(365);

    private readonly HttpClient _proxy = ClientFrom(SignInTrustRig.ProxyAddress, rig.Ingress.BaseUrl);

    public void Dispose() => _proxy.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An HTTP client whose connections come from <paramref name="localAddress"/> (any 127/8 address is loopback on Linux).</summary>
    private static HttpClient ClientFrom(string localAddress, string baseUrl) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    {
        BaseAddress = new Uri(baseUrl),
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json, string? forwardedFor = null, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client.SendAsync(request, Ct);
    }

    private Task<HttpResponseMessage> ViaProxyAsync(string path, object body, string forwardedFor, string? token = null) =>
        PostAsync(_proxy, path, JsonSerializer.Serialize(body), forwardedFor, token);

    /// <summary>
    /// Asserts a problem+json refusal with <paramref name="status"/> that issues no token and says why; returns its detail.
    /// </summary>
    private static async Task<string> RefusedAsync(HttpResponseMessage r, HttpStatusCode status)
    {
        var text = await r.Content.ReadAsStringAsync(Ct);
        Assert.True(status == r.StatusCode, $"expected {(int)status}, got {(int)r.StatusCode}: {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(text);
        Assert.False(doc.RootElement.TryGetProperty("token", out _), "a refusal must not carry a token: " + text);
        var detail = doc.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
        Assert.False(string.IsNullOrWhiteSpace(detail), "the problem must say why: " + text);
        return detail!;
    }

    private static async Task<string> TokenOfAsync(HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync(Ct);
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"expected 200 with a token, got {(int)r.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    private async Task<string> GuestViaProxyAsync(string deviceId, string forwardedFor)
    {
        using var r = await ViaProxyAsync("/v1/sessions/guest", new { deviceId, consent = TestConsent.Voting }, forwardedFor);
        return await TokenOfAsync(r);
    }

    /// <summary>The passcodes the development notifier has sent to <paramref name="contact"/> (lines of the outbox file).</summary>
    private async Task<int> CodesSentToAsync(string contact) =>
        (File.Exists(rig.OtpOutbox) ? await File.ReadAllLinesAsync(rig.OtpOutbox, Ct) : []).Count(l => l.StartsWith(contact + " ", StringComparison.Ordinal));

    private async Task<string> OutboxAsync() => File.Exists(rig.OtpOutbox) ? await File.ReadAllTextAsync(rig.OtpOutbox, Ct) : "";

    /// <summary>Every key in ingress's Redis matching <paramref name="pattern"/>, with its value type and time to live.</summary>
    private async Task<SortedDictionary<string, string>> KeysAsync(string pattern = "*")
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(rig.Data.Address);
        var db = mux.GetDatabase();
        var keys = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (var k in mux.GetServer(rig.Data.Address).KeysAsync(pattern: pattern))
        {
            keys[(string)k!] = (await db.KeyTypeAsync(k)).ToString();
        }

        return keys;
    }

    private async Task<TimeSpan?> TimeToLiveAsync(string key)
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(rig.Data.Address);
        return await mux.GetDatabase().KeyTimeToLiveAsync(key);
    }

    /// <summary>Stands in for time passing: a fixed-window counter or a resend wait lapses.</summary>
    private async Task LapseAsync(string key)
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(rig.Data.Address);
        Assert.True(await mux.GetDatabase().KeyDeleteAsync(key), $"{key} should exist in ingress's Redis");
    }

    /// <summary>How ingress names a client address in its limit keys: a keyed hash (the OTP hashes' key, derived from the account key).</summary>
    private static string Address(string ip) =>
        Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(KeySet.Derive(TestKeys.AccountKey, "otp-hashes"), Encoding.UTF8.GetBytes("otp\naddress\n" + ip)))[..32];

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    // ---- M1: passcode limits -------------------------------------------------------------------------------------

    [Fact]
    public async Task Otp_ResendBackoffDoubles_AndThePerContactDailyCap_Are429_AndSendNoFurtherCode()
    {
        var contact = Unique("cap") + "@example.com";
        var n = 0;
        // A new client address for every request: the cap is on the phone or e-mail, wherever the requests come from.
        Task<HttpResponseMessage> Ask() => ViaProxyAsync("/v1/sessions/otp", new { email = contact }, $"198.51.100.{50 + n++}");
        var waitsBefore = await KeysAsync("ingress:otp-sent:*");

        using (var first = await Ask())
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        Assert.Equal(1, await CodesSentToAsync(contact));
        var wait = Assert.Single((await KeysAsync("ingress:otp-sent:*")).Keys.Except(waitsBefore.Keys));

        // At once again: the 30 s resend wait.
        using (var soon = await Ask())
        {
            Assert.StartsWith("A passcode was sent recently", await RefusedAsync(soon, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
            Assert.InRange(soon.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        }

        Assert.Equal(1, await CodesSentToAsync(contact));

        // After the wait: a second code; the next wait is twice as long.
        await LapseAsync(wait);
        using (var second = await Ask())
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        }

        using (var soonAgain = await Ask())
        {
            Assert.StartsWith("A passcode was sent recently", await RefusedAsync(soonAgain, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
            Assert.InRange(soonAgain.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(31), TimeSpan.FromSeconds(60));
        }

        Assert.Equal(2, await CodesSentToAsync(contact));

        // After that wait too: the contact has had its requests for the day (every request counts, sent or not).
        await LapseAsync(wait);
        using (var capped = await Ask())
        {
            Assert.StartsWith("Too many passcodes for this phone or e-mail today.", await RefusedAsync(capped, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
            Assert.True(capped.Headers.RetryAfter?.Delta > TimeSpan.FromHours(23), $"Retry-After {capped.Headers.RetryAfter} should point to the next day");
        }

        Assert.Equal(2, await CodesSentToAsync(contact));
        Assert.Equal(SignInTrustRig.OtpPerContactPerDay, n - 1);
    }

    [Fact]
    public async Task Otp_PerAddressCaps_PerMinuteAndPerDay_Are429_AndSendNoCode()
    {
        const string ip = "198.51.100.20";
        var contacts = Enumerable.Range(1, 6).Select(i => Unique($"ip{i}") + "@example.com").ToArray();
        async Task<HttpResponseMessage> Ask(int i) => await ViaProxyAsync("/v1/sessions/otp", new { email = contacts[i] }, ip);

        for (var i = 0; i < SignInTrustRig.OtpPerMinute; i++)
        {
            using var ok = await Ask(i);
            Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
            Assert.Equal(1, await CodesSentToAsync(contacts[i]));
        }

        using (var minute = await Ask(3))
        {
            Assert.StartsWith("Too many passcode requests from this address. ", await RefusedAsync(minute, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
            Assert.NotNull(minute.Headers.RetryAfter);
        }

        Assert.Equal(0, await CodesSentToAsync(contacts[3]));

        // The next minute: one more is allowed (the 5th of the day), then the daily cap refuses.
        await LapseAsync($"ingress:lim:otp:ip:{Address(ip)}:m");
        using (var ok = await Ask(4))
        {
            Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        }

        using (var day = await Ask(5))
        {
            Assert.StartsWith("Too many passcode requests from this address today.", await RefusedAsync(day, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
        }

        Assert.Equal(0, await CodesSentToAsync(contacts[5]));
        Assert.Equal(4, (await Task.WhenAll(contacts.Select(CodesSentToAsync))).Sum());
    }

    // ---- M2: guest sign-in limits --------------------------------------------------------------------------------

    [Fact]
    public async Task Guest_PerAddressLimits_Are429_AndCreateNoAccount_AndAnAccountIsKeptAYear()
    {
        const string ip = "198.51.100.30";
        var devices = Enumerable.Range(1, 6).Select(i => Unique($"guest{i}")).ToArray();
        var before = await KeysAsync("ingress:acct:*");
        var beforeEntries = await KeysAsync("ingress:dir:*");

        for (var i = 0; i < SignInTrustRig.GuestPerMinute; i++)
        {
            await GuestViaProxyAsync(devices[i], ip);
        }

        // An account is its creation time, the consent its sign-in gave (the record and its history) and the way back
        // to its directory entry (which finds it from the device): all of it lives a year past the last sign-in.
        var added = (await KeysAsync("ingress:acct:*")).Keys.Except(before.Keys).ToList();
        var created = added.Where(k => k.EndsWith(":created", StringComparison.Ordinal)).ToList();
        Assert.Equal(SignInTrustRig.GuestPerMinute, created.Count);
        var entries = (await KeysAsync("ingress:dir:*")).Keys.Except(beforeEntries.Keys).ToList();
        Assert.Equal(SignInTrustRig.GuestPerMinute, entries.Count);
        foreach (var key in entries)
        {
            var ttl = await TimeToLiveAsync(key);
            Assert.True(ttl > Year - TimeSpan.FromDays(1) && ttl <= Year, $"{key} should live about a year past the sign-in, its time to live is {ttl?.ToString() ?? "none"}");
        }

        foreach (var key in added)
        {
            Assert.Matches(":(created|consent|consent-log|dir)$", key);
            var ttl = await TimeToLiveAsync(key);
            Assert.True(ttl > Year - TimeSpan.FromDays(1) && ttl <= Year, $"{key} should live about a year past the sign-in, its time to live is {ttl?.ToString() ?? "none"}");
        }

        using (var minute = await ViaProxyAsync("/v1/sessions/guest", new { deviceId = devices[3] }, ip))
        {
            Assert.StartsWith("Too many guest sign-ins from this address. ", await RefusedAsync(minute, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
            Assert.NotNull(minute.Headers.RetryAfter);
        }

        Assert.Equal(added, (await KeysAsync("ingress:acct:*")).Keys.Except(before.Keys).ToList());

        // The next minute: one more (the 5th of the day), then the daily limit.
        await LapseAsync($"ingress:lim:guest:ip:{Address(ip)}:m");
        await GuestViaProxyAsync(devices[4], ip);
        using (var day = await ViaProxyAsync("/v1/sessions/guest", new { deviceId = devices[5] }, ip))
        {
            Assert.StartsWith("Too many guest sign-ins from this address today.", await RefusedAsync(day, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
        }

        Assert.Equal(SignInTrustRig.GuestPerDay - 1, (await KeysAsync("ingress:acct:*:created")).Keys.Except(before.Keys).Count());
    }

    // ---- M7: X-Forwarded-For only from trusted proxies ----------------------------------------------------------

    [Fact]
    public async Task ForwardedFor_FromAnUntrustedPeer_IsIgnored_FromATrustedProxy_IsBelieved()
    {
        // 127.0.0.1 is not in FANVOTE_TRUSTED_PROXIES: a new X-Forwarded-For every time does not escape its limit.
        for (var i = 1; i <= SignInTrustRig.GuestPerMinute; i++)
        {
            using var ok = await PostAsync(rig.Http, "/v1/sessions/guest", JsonSerializer.Serialize(new { deviceId = Unique("spoof") }), $"203.0.113.{i}");
            await TokenOfAsync(ok);
        }

        using (var limited = await PostAsync(rig.Http, "/v1/sessions/guest", JsonSerializer.Serialize(new { deviceId = Unique("spoof") }), "203.0.113.99"))
        {
            Assert.StartsWith("Too many guest sign-ins from this address. ", await RefusedAsync(limited, HttpStatusCode.TooManyRequests), StringComparison.Ordinal);
        }

        var counted = await KeysAsync("ingress:lim:guest:ip:*");
        Assert.Contains($"ingress:lim:guest:ip:{Address("127.0.0.1")}:m", counted.Keys);
        Assert.DoesNotContain(counted.Keys, k => k.Contains("203.0.113.", StringComparison.Ordinal));

        // 127.0.0.2 is: each forwarded address is counted on its own, more sign-ins than one address may make.
        for (var i = 11; i <= 11 + SignInTrustRig.GuestPerMinute + 1; i++)
        {
            await GuestViaProxyAsync(Unique("proxied"), $"203.0.113.{i}");
        }

        counted = await KeysAsync("ingress:lim:guest:ip:*");
        Assert.Contains($"ingress:lim:guest:ip:{Address("203.0.113.11")}:m", counted.Keys);
        Assert.Contains($"ingress:lim:guest:ip:{Address($"203.0.113.{11 + SignInTrustRig.GuestPerMinute + 1}")}:m", counted.Keys);
        Assert.DoesNotContain(counted.Keys, k => k.Contains("203.0.113.", StringComparison.Ordinal)); // addresses only as keyed hashes
        Assert.DoesNotContain(counted.Keys, k => k.Contains(SignInTrustRig.ProxyAddress, StringComparison.Ordinal));
    }

    // ---- M8: 4 KB bodies -----------------------------------------------------------------------------------------

    [Fact]
    public async Task SmallBodyEndpoints_5KBody_Is413_AndChangesNothing_ASmallBodyStillWorks()
    {
        const string ip = "198.51.100.60";
        var token = await GuestViaProxyAsync(Unique("big"), ip);
        var pad = new string('a', 5 * 1024);
        var contact = Unique("big") + "@example.com";
        var challenge = $"/v1/challenges/{Guid.NewGuid()}";
        var keysBefore = await KeysAsync();
        var outboxBefore = await OutboxAsync();

        foreach (var (path, body, bearer) in new (string, object, string?)[]
        {
            ("/v1/sessions/guest", new { deviceId = Unique("big"), pad }, null),
            ("/v1/sessions/otp", new { email = contact, pad }, null),
            ("/v1/sessions/otp/verify", new { email = contact, code = "123456", deviceId = "d", pad }, null),
            (challenge, new { answer = "x", pad }, token),
        })
        {
            using var r = await ViaProxyAsync(path, body, ip, bearer);
            Assert.Contains("larger than this endpoint accepts", await RefusedAsync(r, HttpStatusCode.RequestEntityTooLarge), StringComparison.Ordinal);
        }

        Assert.Equal(keysBefore, await KeysAsync());
        Assert.Equal(outboxBefore, await OutboxAsync());

        // The same requests without the padding get through to their handlers.
        await GuestViaProxyAsync(Unique("small"), ip);
        using (var otp = await ViaProxyAsync("/v1/sessions/otp", new { email = contact }, ip))
        {
            Assert.Equal(HttpStatusCode.Accepted, otp.StatusCode);
        }

        Assert.Equal(1, await CodesSentToAsync(contact));
        using (var answer = await ViaProxyAsync(challenge, new { answer = "x" }, ip, token))
        {
            Assert.StartsWith("This challenge does not exist", await RefusedAsync(answer, HttpStatusCode.NotFound), StringComparison.Ordinal);
        }
    }

    // ---- L1: control characters ----------------------------------------------------------------------------------

    private const string DeviceRule = "without control characters";
    private const string ContactRule = "no control characters";
    private const string SameContact = "the passcode was sent to";

    private static readonly Dictionary<string, (string Path, object Body, string Says)> ControlCases = new(StringComparer.Ordinal)
    {
        ["guest deviceId NUL"] = ("/v1/sessions/guest", new { deviceId = "dev\0x" }, DeviceRule),
        ["guest deviceId ESC"] = ("/v1/sessions/guest", new { deviceId = "dev\u001b[2Jx" }, DeviceRule),
        ["guest deviceId newline"] = ("/v1/sessions/guest", new { deviceId = "dev\nx" }, DeviceRule),
        ["guest deviceId U+2028"] = ("/v1/sessions/guest", new { deviceId = "dev\u2028x" }, DeviceRule),
        ["otp email CRLF"] = ("/v1/sessions/otp", new { email = "fan@example.com\r\nbcc:evil@example.com" }, ContactRule),
        ["otp email U+2028"] = ("/v1/sessions/otp", new { email = "fan\u2028@example.com" }, ContactRule),
        ["otp phone newline"] = ("/v1/sessions/otp", new { phone = "+82 10 1234\n5678" }, ContactRule),
        ["verify email CRLF"] = ("/v1/sessions/otp/verify", new { email = "fan@example.com\r\nbcc:evil@example.com", code = "123456", deviceId = "d" }, SameContact),
        ["verify deviceId ESC"] = ("/v1/sessions/otp/verify", new { email = "fan@example.com", code = "123456", deviceId = "d\u001bx" }, DeviceRule),
        ["verify deviceId U+2028"] = ("/v1/sessions/otp/verify", new { email = "fan@example.com", code = "123456", deviceId = "d\u2028x" }, DeviceRule),
    };

    public static TheoryData<string> ControlCaseNames => [.. ControlCases.Keys];

    [Theory]
    [MemberData(nameof(ControlCaseNames))]
    public async Task ControlCharacters_AtSignIn_Are400_AndNothingIsWritten(string name)
    {
        var (path, body, says) = ControlCases[name];
        var keysBefore = await KeysAsync();
        var outboxBefore = await OutboxAsync();

        using var r = await ViaProxyAsync(path, body, "198.51.100.70");

        Assert.Contains(says, await RefusedAsync(r, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Equal(keysBefore, await KeysAsync());
        Assert.Equal(outboxBefore, await OutboxAsync());
    }

    // ---- L7: token refresh ---------------------------------------------------------------------------------------

    private static SessionTokens Tokens(DateTimeOffset now) => new([("t1", TestKeys.TokenKey)], TimeSpan.FromHours(1), new FixedTime(now));

    private static SessionClaims ClaimsOf(string token)
    {
        using var tokens = Tokens(DateTimeOffset.UtcNow);
        Assert.Equal(TokenError.None, tokens.Validate(token, out var claims));
        return claims!;
    }

    [Fact]
    public async Task Refresh_ValidToken_GivesAValidTokenForTheSameAccountDeviceAndSession()
    {
        const string ip = "198.51.100.80";
        var device = Unique("refresh");
        var token = await GuestViaProxyAsync(device, ip);

        using var r = await ViaProxyAsync("/v1/sessions/refresh", new { }, ip, token);
        var renewed = await TokenOfAsync(r);

        var (was, now) = (ClaimsOf(token), ClaimsOf(renewed));
        Assert.Equal(was.AccountId, now.AccountId);
        Assert.Equal(device, now.DeviceId);
        Assert.Equal(SessionKind.Guest, now.Kind);
        Assert.Equal(was.AccountCreatedAt, now.AccountCreatedAt);
        Assert.Equal(was.SessionStartedAt, now.SessionStartedAt);
        Assert.True(now.ExpiresAt > DateTimeOffset.UtcNow, $"the new token should be valid, it expires at {now.ExpiresAt}");

        // Ingress takes the new token as it took the old one.
        using var again = await ViaProxyAsync("/v1/sessions/refresh", new { }, ip, renewed);
        Assert.Equal(was.AccountId, ClaimsOf(await TokenOfAsync(again)).AccountId);
    }

    [Fact]
    public async Task Refresh_ExpiredForgedOrMissingToken_Is401_AndIssuesNoToken()
    {
        const string ip = "198.51.100.81";
        var token = await GuestViaProxyAsync(Unique("refresh"), ip);
        var account = ClaimsOf(token).AccountId;
        using var past = Tokens(DateTimeOffset.UtcNow.AddHours(-2));
        var expired = past.Issue(account, "dev-expired", SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-1), FanConsent.Voting);
        var forged = token[..^4] + (token[^4] == 'A' ? "BBBB" : "AAAA");

        foreach (var (bearer, says) in new (string?, string)[]
        {
            (expired, "expired"),
            (forged, "not valid"),
            ("v1.t1.garbage.sig", "not valid"),
            (null, "Sign in first"),
        })
        {
            using var r = await ViaProxyAsync("/v1/sessions/refresh", new { }, ip, bearer);
            Assert.Contains(says, await RefusedAsync(r, HttpStatusCode.Unauthorized), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Refresh_SessionOlderThanMaxSessionAge_Is401_YoungerIsRenewedKeepingItsStart()
    {
        const string ip = "198.51.100.82";
        var account = ClaimsOf(await GuestViaProxyAsync(Unique("refresh"), ip)).AccountId;
        var maxAge = TimeSpan.FromDays(30); // IngressOptions.MaxSessionAge's default, which the rig keeps
        using var tokens = Tokens(DateTimeOffset.UtcNow);
        var oldStart = DateTimeOffset.UtcNow - maxAge - TimeSpan.FromDays(1);
        var youngStart = DateTimeOffset.UtcNow - maxAge + TimeSpan.FromDays(1);
        var (old, _) = tokens.IssueWithExpiry(account, "dev-old", SessionKind.Guest, oldStart, FanConsent.Voting, oldStart);
        var (young, _) = tokens.IssueWithExpiry(account, "dev-young", SessionKind.Guest, youngStart, FanConsent.Voting, youngStart);

        using (var refused = await ViaProxyAsync("/v1/sessions/refresh", new { }, ip, old))
        {
            Assert.Contains("Sign in again", await RefusedAsync(refused, HttpStatusCode.Unauthorized), StringComparison.Ordinal);
        }

        using var renewed = await ViaProxyAsync("/v1/sessions/refresh", new { }, ip, young);
        Assert.Equal(youngStart.ToUnixTimeSeconds(), ClaimsOf(await TokenOfAsync(renewed)).SessionStartedAt.ToUnixTimeSeconds());
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
