using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;

namespace FanVote.Orchestrator.Tests;

/// <summary>What the operator action log holds and how it reads back: who did what to which window, from where.</summary>
public sealed class ActionLogTests(OrchestratorRig rig) : IClassFixture<OrchestratorRig>
{
    private static string NewId() => "w-" + Guid.NewGuid().ToString("N")[..8];

    private static readonly DateTimeOffset OpensAt = DateTimeOffset.UtcNow.AddMinutes(30);

    private static object Window(string id, string title = "Rehearsal", bool stepByStep = true) => new
    {
        windowId = id, title, candidates = new[] { "a", "b" }, opensAt = OpensAt, closesAt = OpensAt.AddMinutes(5), votesPerAccount = 1, stepByStep,
    };

    [Fact]
    public async Task Actions_SayWhoDidWhatToWhichWindow_FromWhere_EachOnce_AndVerify()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewId();
        using (var created = await rig.CreateAsync(Window(id), OrchestratorRig.AliceKey))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using (var again = await rig.CreateAsync(Window(id), OrchestratorRig.BobKey))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode); // the same definition: its status, nothing new to log
        }

        using (var conflict = await rig.CreateAsync(Window(id, title: "Another show"), OrchestratorRig.BobKey))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        }

        Assert.Equal("Scheduled", await WaitHeldAsync(id));
        using (var go = await rig.PostAsync($"/v1/windows/{id}/continue", OrchestratorRig.BobKey))
        {
            Assert.Equal(HttpStatusCode.OK, go.StatusCode);
        }

        // Rewards' payout report, delivered twice (pub/sub redelivers): logged once, as rewards'.
        for (var i = 0; i < 2; i++)
        {
            var paid = new RewardsPaid
            {
                EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = id, Accounts = 3, Points = 120, Entries = 4,
                LedgerHeadSeq = 17, LedgerHeadHash = new string('a', 64), VotersDigest = new string('b', 64),
            };
            using var r = await rig.Service.Internal.PostAsync(new Uri("/window-reports/paid", UriKind.Relative),
                new StringContent(JsonSerializer.Serialize(paid, FanVoteJson.Options), Encoding.UTF8, "application/json"), ct);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var rows = (await ReadAllAsync(pageSize: 2)).Where(r => r.GetProperty("target").GetString() == id).ToList();

        Assert.Equal(
            [
                "alice window.create created 127.0.0.1",
                "bob window.create refused: a window with this id exists with another definition 127.0.0.1",
                "bob window.continue continued 127.0.0.1",
                "service:rewards window.payout paid pubsub:window-reports",
            ],
            rows.Select(r => $"{r.GetProperty("actor").GetString()} {r.GetProperty("action").GetString()} {r.GetProperty("outcome").GetString()} {r.GetProperty("from").GetString()}"));
        Assert.Equal("Rehearsal", rows[0].GetProperty("detail").GetProperty("title").GetString());
        Assert.Equal("Another show", rows[1].GetProperty("detail").GetProperty("title").GetString());
        Assert.Equal("Scheduled", rows[2].GetProperty("detail").GetProperty("phase").GetString());
        Assert.Equal("17", rows[3].GetProperty("detail").GetProperty("ledgerHeadSeq").GetString());

        // The app's own log line says what was logged, with the address as its prefix only (issue 16: nothing personal in logs).
        Assert.Contains($"window.create on {id} by alice from 127.0.0.0/24: created", rig.Service.App.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("from 127.0.0.1", rig.Service.App.Output, StringComparison.Ordinal);

        var (code, text) = await VerifyAsync(rig);
        Assert.True(code == 0, text);
        Assert.Contains("OK: the action log is intact", text, StringComparison.Ordinal);
        Assert.Contains("matches the latest anchor", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actions_FraudsModelSwitch_IsLoggedOnceAsFrauds()
    {
        var ct = TestContext.Current.CancellationToken;
        var version = "v-" + Guid.NewGuid().ToString("N")[..6];
        var e = new ModelActivated { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, Version = version, Previous = "v-old", Algorithm = "FastTree", Threshold = 0.62, Instance = "fraud-0/7" };
        for (var i = 0; i < 2; i++)
        {
            using var r = await rig.Service.Internal.PostAsync(new Uri("/window-reports/model", UriKind.Relative),
                new StringContent(JsonSerializer.Serialize(e, FanVoteJson.Options), Encoding.UTF8, "application/json"), ct);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var row = Assert.Single(await ReadAllAsync(pageSize: 500), r => r.GetProperty("target").GetString() == version);
        Assert.Equal("service:fraud model.activate in use", $"{row.GetProperty("actor").GetString()} {row.GetProperty("action").GetString()} {row.GetProperty("outcome").GetString()}");
        Assert.Equal("v-old", row.GetProperty("detail").GetProperty("previous").GetString());
        Assert.Equal("fraud-0/7", row.GetProperty("detail").GetProperty("instance").GetString());
    }

    /// <summary>
    /// Keys: the orchestrator logs its own at start; another app's report (as its sidecar delivers it on `window-reports`)
    /// adds one row per key the first time, none for a restart with the same keys, a new row for a rotated key; a report
    /// no app makes logs nothing. Fingerprints only, never a key.
    /// </summary>
    [Fact]
    public async Task Keys_EachKeyLoggedWhenFirstInUse_ARotationIsANewRow()
    {
        var ct = TestContext.Current.CancellationToken;
        var own = await UntilRowsAsync(r => r.GetProperty("action").GetString() == "key.in-use" && r.GetProperty("actor").GetString() == "service:orchestrator");
        Assert.Contains(own, r => r.GetProperty("target").GetString() == "orchestrator:FANVOTE_ACTION_LOG_KEY");
        Assert.All(own, r => Assert.Matches("^[0-9a-f]{16}$", r.GetProperty("detail").GetProperty("fingerprint").GetString()));
        Assert.DoesNotContain(own, r => r.GetRawText().Contains(Convert.ToBase64String(TestKeys.ActionLogKey), StringComparison.Ordinal));

        var setting = "FANVOTE_TEST_KEY_" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        KeysInUse Report(string fingerprint, string app = "tally") => new()
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, App = app, Instance = "tally-0/42",
            Keys = [new KeyInUse(setting, fingerprint, Development: false)],
        };
        foreach (var e in new[] { Report("0123456789abcdef"), Report("0123456789abcdef"), Report("fedcba9876543210"), Report("0123456789abcdef", app: "spy"), Report("not-a-fingerprint") })
        {
            using var r = await rig.Service.Internal.PostAsync(new Uri("/window-reports/keys", UriKind.Relative),
                new StringContent(JsonSerializer.Serialize(e, FanVoteJson.Options), Encoding.UTF8, "application/json"), ct);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var rows = (await ReadAllAsync(pageSize: 500)).Where(r => r.GetProperty("target").GetString()!.EndsWith(":" + setting, StringComparison.Ordinal)).ToList();
        Assert.Equal(["0123456789abcdef", "fedcba9876543210"], rows.Select(r => r.GetProperty("detail").GetProperty("fingerprint").GetString()));
        Assert.All(rows, r => Assert.Equal($"service:tally key.in-use tally:{setting} in use", $"{r.GetProperty("actor").GetString()} {r.GetProperty("action").GetString()} {r.GetProperty("target").GetString()} {r.GetProperty("outcome").GetString()}"));
    }

    /// <summary>The action log's head (its last row's seq), read through the operator API.</summary>
    internal static async Task<long> HeadAsync(OrchestratorRig rig)
    {
        using var r = await rig.GetRawAsync("/v1/actions?limit=1");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("head").GetInt64();
    }

    private async Task<List<JsonElement>> UntilRowsAsync(Func<JsonElement, bool> match)
    {
        List<JsonElement> found = [];
        await Eventually.UntilAsync(async () => (found = [.. (await ReadAllAsync(pageSize: 500)).Where(match)]).Count > 0, "the action log has the rows");
        return found;
    }

    [Fact]
    public async Task Actions_OnlyForOperators_BadPagingIs400()
    {
        using var none = await rig.GetRawAsync("/v1/actions", key: null);
        using var wrong = await rig.GetRawAsync("/v1/actions", key: "not-the-operator-key-0123");
        using var limit = await rig.GetRawAsync("/v1/actions?limit=0");
        using var after = await rig.GetRawAsync("/v1/actions?after=-1");
        using var junk = await rig.GetRawAsync("/v1/actions?after=abc");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, limit.StatusCode);
        Assert.Contains("limit", await limit.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, junk.StatusCode);
    }

    [Fact]
    public async Task Actions_ConcurrentOperators_EachGetAPlaceOfTheirOwn_InOneChain()
    {
        var ids = Enumerable.Range(0, 8).Select(_ => NewId()).ToList();
        var results = await Task.WhenAll(ids.Select(async (id, i) =>
        {
            using var r = await rig.CreateAsync(Window(id, stepByStep: false), i % 2 == 0 ? OrchestratorRig.AliceKey : OrchestratorRig.BobKey);
            return r.StatusCode;
        }));
        Assert.All(results, s => Assert.Equal(HttpStatusCode.Created, s));

        var rows = await ReadAllAsync(pageSize: 500);
        var seqs = rows.Select(r => r.GetProperty("seq").GetInt64()).ToList();

        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
        Assert.All(ids, id => Assert.Single(rows, r => r.GetProperty("target").GetString() == id));
        var (code, text) = await VerifyAsync(rig);
        Assert.True(code == 0, text);
    }

    /// <summary>Waits until the step-by-step window is held in its first phase.</summary>
    private async Task<string?> WaitHeldAsync(string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string? seen = null;
        while (DateTime.UtcNow < deadline)
        {
            using var doc = await rig.GetAsync(id);
            if (doc is not null && doc.RootElement.GetProperty("held").GetBoolean())
            {
                return doc.RootElement.GetProperty("phase").GetString();
            }

            seen = doc?.RootElement.GetRawText();
            await Task.Delay(200);
        }

        return "not held after 30 s: " + seen;
    }

    private async Task<List<JsonElement>> ReadAllAsync(int pageSize)
    {
        var rows = new List<JsonElement>();
        long? after = 0;
        while (after is { } a)
        {
            using var r = await rig.GetRawAsync($"/v1/actions?after={a}&limit={pageSize}");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var page = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            rows.AddRange(page.GetProperty("actions").EnumerateArray().Select(e => e.Clone()));
            after = page.GetProperty("nextAfter").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextAfter").GetInt64();
        }

        return rows;
    }

    /// <summary>Runs `fanvote actions verify` against the rig (keys in files, as an operator would keep them); exit code and output.</summary>
    internal static async Task<(int Code, string Text)> VerifyAsync(OrchestratorRig rig, params string[] extra)
    {
        var dir = Directory.CreateTempSubdirectory("fanvote-verify-");
        try
        {
            var operatorKey = Path.Combine(dir.FullName, "operator.key");
            var logKey = Path.Combine(dir.FullName, "action-log.key");
            await File.WriteAllTextAsync(operatorKey, OrchestratorRig.OperatorKey);
            await File.WriteAllTextAsync(logKey, Convert.ToBase64String(TestKeys.ActionLogKey));
            using var output = new StringWriter();
            var code = await FanVote.Cli.Cli.RunAsync(
                ["actions", "verify", "--url", rig.Service.BaseUrl, "--operator-key-file", operatorKey, "--key-file", logKey, "--anchors", Path.GetDirectoryName(rig.AnchorFile)!, .. extra],
                output, output);
            return (code, output.ToString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>
/// Whoever administers the state store can rewrite the action log there (the Dapr state API, as the store's admin
/// would): `actions verify` names what they did, with the key and the anchors they do not hold.
/// </summary>
public sealed class ActionLogTamperTests(OrchestratorRig rig) : IClassFixture<OrchestratorRig>
{
    [Fact]
    public async Task Verify_NamesARewrittenRow_ThenACutTail()
    {
        var ct = TestContext.Current.CancellationToken;
        var k = await ActionLogTests.HeadAsync(rig); // the orchestrator's own keys come first (it is ready once they are in)
        string Row(long n) => $"action-log|{k + n:D12}";
        for (var i = 0; i < 4; i++)
        {
            using var r = await rig.CreateAsync(new
            {
                windowId = "w-tamper" + i, title = "Show " + i, candidates = new[] { "a", "b" }, opensAt = DateTimeOffset.UtcNow.AddMinutes(5),
                closesAt = DateTimeOffset.UtcNow.AddMinutes(10), votesPerAccount = 1,
            }, OrchestratorRig.AliceKey);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        var (intact, intactText) = await ActionLogTests.VerifyAsync(rig);
        Assert.True(intact == 0, intactText);

        // Row 2 of the test's now says bob did it.
        var state = new StateApi(rig);
        var row2 = await state.GetAsync(Row(2), ct);
        var rewritten = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(row2)!;
        rewritten["actor"] = JsonSerializer.SerializeToElement("bob");
        await state.SaveAsync(Row(2), rewritten, ct);

        var (changed, changedText) = await ActionLogTests.VerifyAsync(rig);
        Assert.True(changed == 1, changedText);
        Assert.Contains($"changed: row {k + 2} (window.create by bob, id window.create:w-tamper1) was changed", changedText, StringComparison.Ordinal);

        // Put it back, then cut the last row: the head moves back one, the row goes. Only the anchor shows it.
        await state.SaveAsync(Row(2), JsonSerializer.Deserialize<JsonElement>(row2), ct);
        var row3 = JsonSerializer.Deserialize<JsonElement>(await state.GetAsync(Row(3), ct));
        await state.SaveAsync("action-log|head", new { seq = k + 3, hash = row3.GetProperty("hash").GetString() }, ct);
        await state.DeleteAsync(Row(4), ct);

        var (cut, cutText) = await ActionLogTests.VerifyAsync(rig);
        Assert.True(cut == 1, cutText);
        Assert.Contains($"head: row {k + 4}, recorded as the log's head", cutText, StringComparison.Ordinal);
        Assert.Contains($"the log ends at row {k + 3}", cutText, StringComparison.Ordinal);

        // Without the anchors the cut log checks: the chain alone cannot show a cut tail, and verify says so.
        var (skipped, skippedText) = await ActionLogTests.VerifyAsync(rig, "--no-anchors", "yes");
        Assert.True(skipped == 0, skippedText);
        Assert.Contains("anchors NOT checked", skippedText, StringComparison.Ordinal);
    }
}

/// <summary>An orchestrator that dies between claiming a position (the head) and writing its row out loses nothing.</summary>
public sealed class ActionLogRecoveryTests(OrchestratorRig rig) : IClassFixture<OrchestratorRig>
{
    [Fact]
    public async Task ARowClaimedButNotWrittenOut_IsReadFromTheHead_AndWrittenByTheNextAppend()
    {
        var ct = TestContext.Current.CancellationToken;
        var k = await ActionLogTests.HeadAsync(rig); // the orchestrator's own keys come first (it is ready once they are in)
        using (var first = await rig.CreateAsync(Window("w-recover-1"), OrchestratorRig.AliceKey))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        // As an orchestrator that claimed the next row and died: the head holds it, its own key was never written.
        var state = new StateApi(rig);
        var head = JsonSerializer.Deserialize<JsonElement>(await state.GetAsync("action-log|head", ct));
        var key = new FanVote.ActionLog.ActionLogKey(TestKeys.ActionLogKey);
        var claimed = FanVote.ActionLog.ActionChain.Next(key, head.GetProperty("seq").GetInt64(), head.GetProperty("hash").GetString()!, new FanVote.ActionLog.ActionDraft(
            "crashed-claim", DateTimeOffset.UtcNow, "bob", FanVote.ActionLog.Actions.WindowContinue, "w-recover-1", "continued", "127.0.0.1", new Dictionary<string, string>()));
        await state.SaveAsync("action-log|head", new { seq = claimed.Seq, hash = claimed.Hash, last = claimed }, ct);
        Assert.Equal(HttpStatusCode.NoContent, await state.StatusAsync($"action-log|{k + 2:D12}", ct));

        var (readable, readableText) = await ActionLogTests.VerifyAsync(rig);
        Assert.True(readable == 0, readableText); // the claimed row is read from the head; the anchor (the row before) still matches
        Assert.Contains($"intact: {k + 2} rows", readableText, StringComparison.Ordinal);

        using (var next = await rig.CreateAsync(Window("w-recover-2"), OrchestratorRig.AliceKey))
        {
            Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await state.StatusAsync($"action-log|{k + 2:D12}", ct));
        var (code, text) = await ActionLogTests.VerifyAsync(rig);
        Assert.True(code == 0, text);
        Assert.Contains($"intact: {k + 3} rows", text, StringComparison.Ordinal);
    }

    private static object Window(string id) => new
    {
        windowId = id, title = id, candidates = new[] { "a", "b" }, opensAt = DateTimeOffset.UtcNow.AddMinutes(30),
        closesAt = DateTimeOffset.UtcNow.AddMinutes(35), votesPerAccount = 1,
    };
}

/// <summary>The orchestrator's state through its sidecar's state API, as the store's admin would reach it.</summary>
internal sealed class StateApi(OrchestratorRig rig)
{
    private string Url => $"http://127.0.0.1:{rig.Service.Sidecar.HttpPort}/v1.0/state/{ComponentNames.State}";

    public async Task<HttpStatusCode> StatusAsync(string key, CancellationToken ct)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"{Url}/{key}");
        get.Headers.Add("dapr-api-token", TestKeys.DaprApiToken);
        using var r = await rig.Http.SendAsync(get, ct);
        return r.StatusCode;
    }

    public async Task<string> GetAsync(string key, CancellationToken ct)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"{Url}/{key}");
        get.Headers.Add("dapr-api-token", TestKeys.DaprApiToken);
        using var r = await rig.Http.SendAsync(get, ct);
        var body = await r.Content.ReadAsStringAsync(ct);
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"state {key}: {(int)r.StatusCode} {body}");
        return body;
    }

    public async Task SaveAsync(string key, object value, CancellationToken ct)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, Url) { Content = JsonContent.Create(new[] { new { key, value } }, options: FanVoteJson.Options) };
        post.Headers.Add("dapr-api-token", TestKeys.DaprApiToken);
        using var r = await rig.Http.SendAsync(post, ct);
        Assert.True(r.IsSuccessStatusCode, $"save {key}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
    }

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"{Url}/{key}");
        delete.Headers.Add("dapr-api-token", TestKeys.DaprApiToken);
        using var r = await rig.Http.SendAsync(delete, ct);
        Assert.True(r.IsSuccessStatusCode, $"delete {key} answered {(int)r.StatusCode}");
    }
}
