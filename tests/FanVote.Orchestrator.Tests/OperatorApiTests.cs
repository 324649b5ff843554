using System.Net;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;

namespace FanVote.Orchestrator.Tests;

public sealed class OperatorApiTests(OrchestratorRig rig) : IClassFixture<OrchestratorRig>
{
    private static object Window(string id, double opensInSeconds, double closesInSeconds, string[]? candidates = null) => new
    {
        windowId = id,
        title = "Test window " + id,
        candidates = candidates ?? ["a", "b", "c"],
        opensAt = DateTimeOffset.UtcNow.AddSeconds(opensInSeconds),
        closesAt = DateTimeOffset.UtcNow.AddSeconds(closesInSeconds),
        votesPerAccount = 5,
    };

    private static string NewId() => "w-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Create_WithoutOrWithWrongKey_Is401ProblemJson()
    {
        using var none = await rig.CreateAsync(Window(NewId(), 1, 60), key: null);
        using var wrong = await rig.CreateAsync(Window(NewId(), 1, 60), key: "not-the-key");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Contains("X-Operator-Key", await none.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ShowsEveryWindowWithItsPhase_LatestOpeningFirst_OnlyWithTheKey()
    {
        var (early, late) = (NewId(), NewId());
        using (var a = await rig.CreateAsync(Window(early, 600, 1200)))
        using (var b = await rig.CreateAsync(Window(late, 900, 1200)))
        {
            Assert.Equal(HttpStatusCode.Created, a.StatusCode);
            Assert.Equal(HttpStatusCode.Created, b.StatusCode);
        }

        using var r = await rig.GetRawAsync("/v1/windows");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var listed = doc.RootElement.EnumerateArray().ToList();
        var ids = listed.Select(w => w.GetProperty("windowId").GetString()).ToList();
        Assert.True(ids.IndexOf(late) >= 0 && ids.IndexOf(late) < ids.IndexOf(early), $"expected {late} before {early} in [{string.Join(", ", ids)}]");
        var mine = listed.Single(w => w.GetProperty("windowId").GetString() == early);
        Assert.Equal("Scheduled", mine.GetProperty("phase").GetString());
        Assert.Equal("Test window " + early, mine.GetProperty("title").GetString());
        Assert.False(mine.GetProperty("held").GetBoolean());

        using var stranger = await rig.Http.GetAsync(new Uri("/v1/windows", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);
        Assert.Equal("application/problem+json", stranger.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Console_IsAPageAnyoneMayLoad_HoldingNoKey_NotFramable()
    {
        using var r = await rig.Http.GetAsync(new Uri("/console", UriKind.Relative), TestContext.Current.CancellationToken);
        var html = await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal("DENY", r.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("X-Operator-Key", html, StringComparison.Ordinal);
        Assert.DoesNotContain(OrchestratorRig.OperatorKey, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_InvalidDefinition_Is400NamingEachField()
    {
        using var r = await rig.CreateAsync(new { windowId = "bad id", title = "", candidates = new[] { "a" }, opensAt = DateTimeOffset.UtcNow, closesAt = DateTimeOffset.UtcNow.AddMinutes(-1), votesPerAccount = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var fields = doc.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "windowId", "title", "candidates", "closesAt", "votesPerAccount" }, fields);
    }

    [Fact]
    public async Task Lifecycle_CreatedWindow_OpensAndClosesOnSchedule_PublishingEachFactOnce()
    {
        var id = NewId();

        // Far enough ahead that a slow, busy machine still reads the window before it opens.
        using var created = await rig.CreateAsync(Window(id, 8, 12));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/v1/windows/{id}", created.Headers.Location?.ToString());
        using (var status = await rig.GetAsync(id))
        {
            Assert.Equal("Scheduled", status!.RootElement.GetProperty("phase").GetString());
            Assert.Equal(["a", "b", "c"], status.RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetString()));
        }

        Assert.Equal("Open", await rig.WaitPhaseAsync(id, "Open", TimeSpan.FromSeconds(30)));
        Assert.Equal("Closed", await rig.WaitPhaseAsync(id, "Closed", TimeSpan.FromSeconds(30)));

        using (var status = await rig.GetAsync(id))
        {
            var steps = status!.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("outcome").GetString()).ToList();
            Assert.Equal(["created", "opened", "closed"], steps);
        }

        var events = (await rig.WindowEventsAsync()).Where(e => e.WindowId == id).ToList();
        Assert.Equal([EventTypes.WindowScheduled, EventTypes.WindowOpened, EventTypes.WindowClosed], events.Select(e => e.Type));
        Assert.Equal(3, events.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task Create_SameDefinitionAgain_IsIdempotent_DifferentIs409()
    {
        var id = NewId();
        var body = Window(id, 60, 120);

        using var first = await rig.CreateAsync(body);
        using var again = await rig.CreateAsync(body);
        using var different = await rig.CreateAsync(Window(id, 60, 120, ["x", "y"]));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, different.StatusCode);
        Assert.Equal("application/problem+json", different.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Continue_StepByStepWindow_WaitsInEachPhaseForTheOperatorsGo()
    {
        var id = NewId();
        using var created = await rig.CreateAsync(new
        {
            windowId = id, title = "Rehearsal", candidates = new[] { "a", "b" }, opensAt = DateTimeOffset.UtcNow.AddSeconds(-1),
            closesAt = DateTimeOffset.UtcNow.AddMinutes(5), votesPerAccount = 1, stepByStep = true,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await Task.Delay(1500, TestContext.Current.CancellationToken);

        using (var held = await rig.GetAsync(id))
        {
            Assert.Equal("Scheduled", held!.RootElement.GetProperty("phase").GetString());
            Assert.True(held.RootElement.GetProperty("held").GetBoolean());
        }

        using var go = await rig.PostAsync($"/v1/windows/{id}/continue");
        Assert.Equal(HttpStatusCode.OK, go.StatusCode);
        Assert.Equal("Open", await rig.WaitPhaseAsync(id, "Open", TimeSpan.FromSeconds(15)));
        using (var open = await rig.GetAsync(id))
        {
            Assert.True(open!.RootElement.GetProperty("held").GetBoolean());
        }

        using var again = await rig.PostAsync($"/v1/windows/{id}/continue");
        using var tooMany = await rig.PostAsync($"/v1/windows/{id}/continue");

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, tooMany.StatusCode);
        Assert.Contains("already under way", await tooMany.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        using var certified = await rig.GetRawAsync($"/v1/windows/{id}/certified");
        Assert.Equal(HttpStatusCode.NotFound, certified.StatusCode);
        Assert.Contains("certified after the drain and the audit", await certified.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Continue_WindowThatIsNotStepByStep_Is409ProblemJson()
    {
        var id = NewId();
        using var created = await rig.CreateAsync(Window(id, 60, 120));

        using var r = await rig.PostAsync($"/v1/windows/{id}/continue");

        Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        Assert.Contains("stepByStep", await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_ForAnUnknownWindow_IsTakenAndDropped_ForAWindowNotAskingIt_ChangesNothing()
    {
        var id = NewId();
        using var created = await rig.CreateAsync(Window(id, 60, 120));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var before = await rig.GetAsync(id);

        async Task<HttpStatusCode> ReportAsync(string window)
        {
            var report = new AcceptedVotesReported { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, Seq = 1, Accepted = 999 };
            using var r = await rig.Service.Internal.PostAsync(new Uri("/window-reports/accepted", UriKind.Relative),
                new StringContent(JsonSerializer.Serialize(report, FanVoteJson.Options), System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
            return r.StatusCode;
        }

        // Unknown: 200, so pub/sub does not redeliver it for ever. A Scheduled window asked nobody for counts: recorded as nothing.
        Assert.Equal(HttpStatusCode.OK, await ReportAsync(NewId()));
        Assert.Equal(HttpStatusCode.OK, await ReportAsync(id));
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        using var after = await rig.GetAsync(id);
        Assert.Equal(before!.RootElement.GetProperty("steps").GetRawText(), after!.RootElement.GetProperty("steps").GetRawText());
        Assert.Equal("Scheduled", after.RootElement.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task Watch_AsksIngressAndTally_ShowsTheLatestAnswers_InFlightAndFlags_TheWorkflowNeverSeesThem_OnlyWithTheKey()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewId();
        using var created = await rig.CreateAsync(Window(id, 60, 120));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var before = await rig.GetAsync(id);

        // Operators only; an unknown window is 404.
        using (var anonymous = await rig.Http.GetAsync(new Uri($"/v1/windows/{id}/watch", UriKind.Relative), ct))
        {
            Assert.Equal((HttpStatusCode.Unauthorized, "application/problem+json"), (anonymous.StatusCode, anonymous.Content.Headers.ContentType?.MediaType));
        }

        using (var unknown = await rig.GetRawAsync($"/v1/windows/{NewId()}/watch"))
        {
            Assert.Equal((HttpStatusCode.NotFound, "application/problem+json"), (unknown.StatusCode, unknown.Content.Headers.ContentType?.MediaType));
        }

        // Nobody has answered yet: no counts; the watch asked ingress and tally (a watch request on window-requests).
        using (var first = await rig.GetRawAsync($"/v1/windows/{id}/watch"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var w = JsonDocument.Parse(await first.Content.ReadAsStringAsync(ct)).RootElement;
            Assert.Equal((JsonValueKind.Null, JsonValueKind.Null, JsonValueKind.Null, 0L), (w.GetProperty("accepted").ValueKind, w.GetProperty("persisted").ValueKind, w.GetProperty("inFlight").ValueKind, w.GetProperty("flags").GetProperty("votes").GetInt64()));
        }

        var asked = await StreamEvents.DataAsync<VoteCountsRequested>(rig.Redis.Address, Topics.WindowRequests, EventTypes.VoteCountsRequested);
        Assert.Contains(asked, r => r.WindowId == id && r.Watch);

        // The answers (as ingress and tally send them, through the sidecar's app channel); an older answer arriving
        // late does not replace a newer one.
        var t = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.OK, await PostReportAsync("accepted", new AcceptedVotesReported { EventId = Guid.NewGuid(), OccurredAt = t, WindowId = id, Seq = 5, Accepted = 120, Watch = true }));
        Assert.Equal(HttpStatusCode.OK, await PostReportAsync("persisted", new PersistedVotesReported
        {
            EventId = Guid.NewGuid(), OccurredAt = t, WindowId = id, Seq = 5, Persisted = 100, Watch = true,
            Flags = new FlagCounts(7, 3, new Dictionary<string, long> { ["device-farm"] = 5, ["metronome"] = 2 }),
        }));
        Assert.Equal(HttpStatusCode.OK, await PostReportAsync("accepted", new AcceptedVotesReported { EventId = Guid.NewGuid(), OccurredAt = t.AddSeconds(-5), WindowId = id, Seq = 4, Accepted = 50, Watch = true }));

        using (var seen = await rig.GetRawAsync($"/v1/windows/{id}/watch"))
        {
            var w = JsonDocument.Parse(await seen.Content.ReadAsStringAsync(ct)).RootElement;
            Assert.Equal((120L, 100L, 20L), (w.GetProperty("accepted").GetProperty("count").GetInt64(), w.GetProperty("persisted").GetProperty("count").GetInt64(), w.GetProperty("inFlight").GetInt64()));
            Assert.Equal(t, w.GetProperty("accepted").GetProperty("at").GetDateTimeOffset());
            var flags = w.GetProperty("flags");
            Assert.Equal((7L, 3L), (flags.GetProperty("votes").GetInt64(), flags.GetProperty("subjects").GetInt64()));
            Assert.Equal(new Dictionary<string, long> { ["device-farm"] = 5, ["metronome"] = 2 }, flags.GetProperty("byReason").Deserialize<Dictionary<string, long>>());
        }

        // None of it went to the window's workflow: its steps are as they were.
        using var after = await rig.GetAsync(id);
        Assert.Equal(before!.RootElement.GetProperty("steps").GetRawText(), after!.RootElement.GetProperty("steps").GetRawText());
    }

    private async Task<HttpStatusCode> PostReportAsync<T>(string kind, T report)
    {
        using var r = await rig.Service.Internal.PostAsync(new Uri($"/window-reports/{kind}", UriKind.Relative),
            new StringContent(JsonSerializer.Serialize(report, FanVoteJson.Options), System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        return r.StatusCode;
    }

    [Fact]
    public async Task Get_UnknownWindow_Is404ProblemJson()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/windows/{NewId()}");
        request.Headers.Add("X-Operator-Key", OrchestratorRig.OperatorKey);

        using var r = await rig.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>Windows survive a SIGKILL of the orchestrator and its sidecar: the schedule still runs, each fact published once.</summary>
public sealed class OrchestratorRestartTests : IAsyncLifetime
{
    private readonly OrchestratorRig _rig = new();

    public ValueTask InitializeAsync() => _rig.InitializeAsync();

    public ValueTask DisposeAsync() => _rig.DisposeAsync();

    [Fact]
    public async Task Window_OrchestratorKilledBeforeOpening_StillOpensAndClosesAfterRestart()
    {
        var id = "w-" + Guid.NewGuid().ToString("N")[..8];
        using var created = await _rig.CreateAsync(new
        {
            windowId = id, title = "Restart", candidates = new[] { "a", "b" },
            opensAt = DateTimeOffset.UtcNow.AddSeconds(3), closesAt = DateTimeOffset.UtcNow.AddSeconds(7), votesPerAccount = 1,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        await _rig.Service.KillAsync();
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        await _rig.Service.StartAsync();

        Assert.Equal("Closed", await _rig.WaitPhaseAsync(id, "Closed", TimeSpan.FromSeconds(30)));
        var events = (await _rig.WindowEventsAsync()).Where(e => e.WindowId == id).ToList();
        Assert.Equal([EventTypes.WindowScheduled, EventTypes.WindowOpened, EventTypes.WindowClosed], events.Select(e => e.Type).Distinct());
        Assert.Equal(3, events.Select(e => e.EventId).Distinct().Count());
    }
}
