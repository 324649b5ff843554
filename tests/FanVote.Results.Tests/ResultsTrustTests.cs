using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;

namespace FanVote.Results.Tests;

/// <summary>
/// What results keeps and serves cannot be forged: a certified result only when the auditor signed it, once per window;
/// receipt chunks only for a certified result they fit; internal routes only for the sidecar; ids checked at the route;
/// live streams capped per client address.
/// </summary>
public sealed class ResultsTrustTests(ResultsRig rig) : IClassFixture<ResultsRig>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static CertifiedResult Result(string window, long blaze, System.Security.Cryptography.ECDsa? signer)
    {
        var r = new CertifiedResult
        {
            WindowId = window, Candidates = ["aurora", "blaze"], Counts = new Dictionary<string, long> { ["aurora"] = 1, ["blaze"] = blaze }, Total = 1 + blaze,
            Winners = ["blaze"], Accepted = 1 + blaze, Persisted = 1 + blaze, Excluded = 0, ExcludedByReason = new Dictionary<string, long>(), LiveTotal = 1 + blaze,
            LiveMatches = true, MerkleRoot = new string('a', 64), LeafCount = 1 + blaze, ReceiptChunkSize = 4096, ReceiptChunks = 1, Voters = 2, VoterChunks = 1,
            VotersDigest = new string('e', 64), AuditedAt = DateTimeOffset.UtcNow, Unconfirmed = 0, Quarantined = 0, QuarantinedByReason = new Dictionary<string, long>(),
            AuditNonce = "n", Digest = "",
        };
        r = r with { Digest = CertifiedDigest.Compute(r) };
        return signer is null ? r : AuditSignature.Sign(r, signer);
    }

    private Task CertifyAsync(CertifiedResult r) =>
        rig.Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowEvents,
            new WindowCertified { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = r.WindowId, Result = r },
            new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.WindowCertified }, Ct);

    private async Task<HttpResponseMessage> CertifiedAsync(string window) => await rig.Http.GetAsync(new Uri($"/v1/windows/{window}/certified", UriKind.Relative), Ct);

    [Fact]
    public async Task Certified_KeptOnlyWhenTheAuditorSignedIt_AndOnlyTheFirst()
    {
        var w = "cert-" + Guid.NewGuid().ToString("N")[..6];
        using var auditor = AuditSignature.LoadPrivateKey(TestKeys.AuditSigningKey);
        using var forger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);

        await CertifyAsync(Result(w, 1000, null));          // a recomputed digest, no signature
        await CertifyAsync(Result(w, 2000, forger));        // signed, by someone else
        await Task.Delay(1500, Ct);
        using (var none = await CertifiedAsync(w))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        }

        var real = Result(w, 2, auditor);
        await CertifyAsync(real);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpResponseMessage r;
        while ((r = await CertifiedAsync(w)).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            r.Dispose();
            await Task.Delay(200, Ct);
        }

        using (r)
        {
            Assert.Equal(real.Digest, (await r.Content.ReadFromJsonAsync<CertifiedResult>(FanVoteJson.Options, Ct))!.Digest);
        }

        await CertifyAsync(Result(w, 3, auditor));          // even a second signed result does not replace the first
        await Task.Delay(1500, Ct);
        using var after = await CertifiedAsync(w);
        Assert.Equal(real.Digest, (await after.Content.ReadFromJsonAsync<CertifiedResult>(FanVoteJson.Options, Ct))!.Digest);

        var key = await rig.Http.GetFromJsonAsync<JsonElement>("/v1/certification-key", Ct);
        Assert.Equal(AuditSignature.KeyId(auditor), key.GetProperty("keyId").GetString());
    }

    [Fact]
    public async Task InternalRoutes_WithoutTheAppToken_Are401_AndChangeNothing()
    {
        var w = "int-" + Guid.NewGuid().ToString("N")[..6];
        await rig.ScheduleAsync(w, "aurora", "blaze");
        await rig.TallyAsync(w, 1, ("aurora", 1));
        await rig.WaitResultsAsync(w, e => e.GetProperty("seq").GetInt64() == 1);

        var forged = new { data = new { windowId = w, seq = long.MaxValue / 2, total = 5_000_000, counts = new Dictionary<string, long> { ["aurora"] = 5_000_000 } } };
        using var post = await rig.Http.PostAsJsonAsync("/tally-updated", forged, Ct);
        using var wrongToken = new HttpRequestMessage(HttpMethod.Get, "/dapr/subscribe") { Headers = { { "dapr-api-token", "not-the-token-0123456789" } } };
        using var subscribe = await rig.Http.SendAsync(wrongToken, Ct);
        using var metrics = await rig.Http.GetAsync(new Uri("/metrics", UriKind.Relative), Ct);
        using var health = await rig.Http.GetAsync(new Uri("/healthz", UriKind.Relative), Ct);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (post.StatusCode, subscribe.StatusCode, metrics.StatusCode));
        Assert.Equal("application/problem+json", post.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status":"Healthy"}""", await health.Content.ReadAsStringAsync(Ct)); // no detail for the public
        await rig.TallyAsync(w, 2, ("aurora", 2));
        var now = await rig.WaitResultsAsync(w, e => e.GetProperty("seq").GetInt64() == 2);
        Assert.Equal(2, now.GetProperty("total").GetInt64());
        using var detailed = await rig.Results.Internal.GetAsync(new Uri("/healthz", UriKind.Relative), Ct);
        Assert.Contains("dapr-sidecar", await detailed.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a||b", HttpStatusCode.NotFound)]
    [InlineData("w%20w", HttpStatusCode.NotFound)]
    [InlineData("x%00y", HttpStatusCode.BadRequest)] // Kestrel refuses a NUL in a path before routing
    public async Task WindowIds_NotOfTheIdShape_AreRefusedAtTheRoute_NeverAServerError(string id, HttpStatusCode expected)
    {
        using var certified = await rig.Http.GetAsync(new Uri($"/v1/windows/{id}/certified", UriKind.Relative), Ct);
        using var results = await rig.Http.GetAsync(new Uri($"/v1/windows/{id}/results", UriKind.Relative), Ct);
        using var receipt = await rig.Http.GetAsync(new Uri($"/v1/windows/{id}/receipts/{Guid.NewGuid()}", UriKind.Relative), Ct);

        Assert.Equal((expected, expected, expected), (certified.StatusCode, results.StatusCode, receipt.StatusCode));
    }

    [Fact]
    public async Task Streams_OneClientAddress_GetsAtMostItsShare_Then429_AndAClosedStreamFreesItsPlace()
    {
        var w = "cap-" + Guid.NewGuid().ToString("N")[..6];
        await rig.ScheduleAsync(w, "aurora", "blaze");
        await rig.WaitResultsAsync(w, _ => true);
        var open = new List<HttpResponseMessage>();
        HttpResponseMessage? refused = null;
        try
        {
            for (var i = 0; i < 20 && refused is null; i++)
            {
                var r = await rig.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/windows/{w}/results/stream"), HttpCompletionOption.ResponseHeadersRead, Ct);
                if (r.StatusCode == HttpStatusCode.OK)
                {
                    open.Add(r);
                }
                else
                {
                    refused = r;
                }
            }

            Assert.NotNull(refused);
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
            Assert.InRange(open.Count, 1, 8);
            Assert.NotNull(refused.Headers.RetryAfter);
        }
        finally
        {
            refused?.Dispose();
            foreach (var r in open)
            {
                r.Dispose();
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var again = await rig.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/windows/{w}/results/stream"), HttpCompletionOption.ResponseHeadersRead, Ct);
            if (again.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "closing the streams never freed a place");
            await Task.Delay(200, Ct);
        }
    }
}
