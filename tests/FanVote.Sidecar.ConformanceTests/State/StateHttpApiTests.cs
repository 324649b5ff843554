using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FanVote.Testing;

namespace FanVote.Sidecar.ConformanceTests.State;

/// <summary>
/// The plain HTTP state API (docs/dapr-subset.md §12), exactly as the foundation issue asks: a sidecar with a
/// state.redis and a pubsub.redis component answers healthz 204, saves and reads over HTTP, 409 on a stale etag.
/// </summary>
[Trait("Category", "Conformance")]
public sealed class StateHttpApiTests
{
    private static readonly string[] BulkKeys = ["b", "zzz", "a"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HttpApi_RedisSidecar_HealthSaveReadAndStaleEtag409()
    {
        using var res = new ResourceFolder().WithRedisState("statestore").WithRedisPubSub("pubsub");
        await using var sidecar = await new SidecarHost("probe-" + Guid.NewGuid().ToString("N")[..6], res.Path).StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.HttpEndpoint) };
        var key = "greeting-" + Guid.NewGuid().ToString("N")[..6];

        using (var health = await http.GetAsync(new Uri("/v1.0/healthz", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, health.StatusCode);
        }

        using (var save = await http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key, value = new { text = "hello", n = 1 } } }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, save.StatusCode);
        }

        string etag;
        using (var get = await http.GetAsync(new Uri($"/v1.0/state/statestore/{key}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            using var doc = JsonDocument.Parse(await get.Content.ReadAsStringAsync(Ct));
            Assert.Equal("hello", doc.RootElement.GetProperty("text").GetString());
            etag = get.Headers.ETag?.Tag.Trim('"') ?? get.Headers.GetValues("ETag").Single();
            Assert.Equal("1", etag);
        }

        using (var update = await http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key, value = new { text = "again", n = 2 }, etag } }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, update.StatusCode);
        }

        using (var stale = await http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key, value = new { text = "lost", n = 3 }, etag } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
            using var err = JsonDocument.Parse(await stale.Content.ReadAsStringAsync(Ct));
            Assert.Equal("ERR_STATE_SAVE", err.RootElement.GetProperty("errorCode").GetString());
        }

        using (var get = await http.GetAsync(new Uri($"/v1.0/state/statestore/{key}", UriKind.Relative), Ct))
        {
            Assert.Contains("again", await get.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task HttpApi_MissingKeyBadBodyUnknownStoreDeleteBulkTransaction_AnswerAsDaprd()
    {
        using var res = new ResourceFolder().With("mem.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: mem }\nspec: { type: state.in-memory, version: v1 }\n");
        await using var sidecar = await new SidecarHost("probe-" + Guid.NewGuid().ToString("N")[..6], res.Path).StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.HttpEndpoint) };

        using (var missing = await http.GetAsync(new Uri("/v1.0/state/mem/nothing-here", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, missing.StatusCode);
        }

        using (var bad = await http.PostAsync(new Uri("/v1.0/state/mem", UriKind.Relative), new StringContent("{not json", Encoding.UTF8, "application/json"), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("ERR_MALFORMED_REQUEST", await bad.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        using (var unknown = await http.PostAsJsonAsync("/v1.0/state/nope", new[] { new { key = "a", value = 1 } }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
            Assert.Contains("ERR_STATE_STORE_NOT_FOUND", await unknown.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        using (var tx = await http.PostAsJsonAsync("/v1.0/state/mem/transaction", new
        {
            operations = new object[]
            {
                new { operation = "upsert", request = new { key = "a", value = "A" } },
                new { operation = "upsert", request = new { key = "b", value = "B" } },
            },
        }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, tx.StatusCode);
        }

        using (var bulk = await http.PostAsJsonAsync("/v1.0/state/mem/bulk", new { keys = BulkKeys }, Ct))
        {
            using var doc = JsonDocument.Parse(await bulk.Content.ReadAsStringAsync(Ct));
            var items = doc.RootElement.EnumerateArray().ToList();
            Assert.Equal(["b", "zzz", "a"], items.Select(i => i.GetProperty("key").GetString()));
            Assert.Equal("B", items[0].GetProperty("data").GetString());
            Assert.False(items[1].TryGetProperty("data", out _));
        }

        using var staleDelete = new HttpRequestMessage(HttpMethod.Delete, "/v1.0/state/mem/a");
        staleDelete.Headers.TryAddWithoutValidation("If-Match", "not-the-etag");
        using (var r = await http.SendAsync(staleDelete, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        }

        using (var del = await http.DeleteAsync(new Uri("/v1.0/state/mem/a", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        }

        using (var gone = await http.GetAsync(new Uri("/v1.0/state/mem/a", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, gone.StatusCode);
        }
    }
}
