using System.Net;
using System.Text;
using System.Text.Json;
using Dapr.Actors;
using Dapr.Client;
using FanVote.Sidecar.TestActors;

namespace FanVote.Sidecar.ConformanceTests.Actors;

/// <summary>docs/dapr-subset.md §10 row 6, through the real Dapr.Actors proxies.</summary>
[Trait("Category", "Conformance")]
public sealed class ActorTests(ActorRig rig) : IClassFixture<ActorRig>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewId() => "a-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Config_HostedTypes_ShowInMetadataAsRunning()
    {
        using var client = new DaprClientBuilder().UseGrpcEndpoint(rig.Host.GrpcEndpoint).UseHttpEndpoint(rig.Host.HttpEndpoint).Build();
        // The rig's actors go idle after 1.5 s: on a loaded machine the metadata can come after that, so call and read
        // again (each call activates the actor anew) until the read sees it active.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        DaprMetadata meta;
        do
        {
            await rig.Proxy<IRecorder>("RecorderActor", NewId()).Work(1);
            meta = await client.GetMetadataAsync(Ct);
        }
        while (!meta.Actors.Any(a => a.Type == "RecorderActor" && a.Count >= 1) && DateTime.UtcNow < deadline);

        Assert.Contains(meta.Actors, a => a.Type == "RecorderActor" && a.Count >= 1);
        using var http = new HttpClient();
        using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri(rig.Host.HttpEndpoint + "/v1.0/metadata"), Ct));
        Assert.Equal("RUNNING", doc.RootElement.GetProperty("actorRuntime").GetProperty("runtimeStatus").GetString());
    }

    [Fact]
    public async Task Invoke_RemotingAndNonRemoting_BothReachTheActor()
    {
        var id = NewId();

        var viaRemoting = await rig.Proxy<IRecorder>("RecorderActor", id).Work(5);
        var viaJson = await rig.Untyped("RecorderActor", id).InvokeMethodAsync<int, int>("Work", 7, Ct);

        Assert.Equal(10, viaRemoting);
        Assert.Equal(14, viaJson);
        Assert.Equal(2, (await rig.JournalAsync("RecorderActor", id)).Count(e => e.Event == "work"));
    }

    [Fact]
    public async Task Invoke_DoubleSlashPath_IsCleanedLikeDaprd()
    {
        using var http = new HttpClient();
        using var content = new StringContent("3", Encoding.UTF8, "application/json");

        using var r = await http.PutAsync(new Uri($"{rig.Host.HttpEndpoint}//v1.0/actors/RecorderActor/{NewId()}/method/Work"), content, Ct);

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("6", await r.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Invoke_RemotingException_IsRethrownToTheCaller()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => rig.Proxy<IThrower>("ThrowerActor", NewId()).Boom());

        Assert.Contains("boom from the actor", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_NonRemotingFailure_IsErrActorInvokeMethod()
    {
        using var http = new HttpClient();
        using var r = await http.PutAsync(new Uri($"{rig.Host.HttpEndpoint}/v1.0/actors/ThrowerActor/{NewId()}/method/Boom"), null, Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Contains("ERR_ACTOR_INVOKE_METHOD", await r.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turns_ConcurrentCallsToOneActor_NeverOverlap_OtherActorsDo()
    {
        var one = NewId();
        var calls = Enumerable.Range(0, 12).Select(_ => rig.Proxy<IRecorder>("RecorderActor", one).Work(40));
        var others = Enumerable.Range(0, 6).Select(_ => NewId()).ToList();
        var parallel = others.Select(o => rig.Proxy<IRecorder>("RecorderActor", o).Work(300));

        await Task.WhenAll(calls.Concat(parallel));

        var work = (await rig.JournalAsync("RecorderActor", one)).Where(e => e.Event == "work").OrderBy(e => e.Start).ToList();
        Assert.Equal(12, work.Count);
        for (var i = 1; i < work.Count; i++)
        {
            Assert.True(work[i].Start >= work[i - 1].End, $"call {i} started at {work[i].Start:O} before call {i - 1} ended at {work[i - 1].End:O}");
        }

        var spans = new List<JournalEntry>();
        foreach (var o in others)
        {
            spans.AddRange((await rig.JournalAsync("RecorderActor", o)).Where(e => e.Event == "work"));
        }

        Assert.Contains(spans, a => spans.Any(b => b != a && b.Start < a.End && a.Start < b.End));
    }

    [Fact]
    public async Task State_SavedWithTtl_ReadsBackThenExpires()
    {
        var actor = rig.Proxy<IStateActor>("StateActor", NewId());

        await actor.Put("short", "v1", 1);
        await actor.Put("long", "v2", 0);
        Assert.Equal("v1", await actor.Read("short"));
        await Task.Delay(2500, Ct);

        Assert.Equal("", await actor.Read("short"));
        Assert.Equal("v2", await actor.Read("long"));
    }

    [Fact]
    public async Task State_SaveForInactiveActor_IsErrActorInstanceMissing()
    {
        using var http = new HttpClient();
        using var content = new StringContent("""[{"operation":"upsert","request":{"key":"k","value":1}}]""", Encoding.UTF8, "application/json");

        using var r = await http.PutAsync(new Uri($"{rig.Host.HttpEndpoint}/v1.0/actors/StateActor/never-{NewId()}/state"), content, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("ERR_ACTOR_INSTANCE_MISSING", await r.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reminder_Periodic_FiresWithItsDataUntilUnregistered()
    {
        var id = NewId();
        var actor = rig.Proxy<IReminderActor>("ReminderActor", id);

        await actor.Arm("beat", 100, 300, 0);
        var j = await rig.WaitJournalAsync("ReminderActor", id, j => j.Count(e => e.Event.StartsWith("tick:beat", StringComparison.Ordinal)) >= 3, TimeSpan.FromSeconds(10));
        await actor.Disarm("beat");
        var after = j.Count(e => e.Event.StartsWith("tick:beat", StringComparison.Ordinal));
        await Task.Delay(1000, Ct);

        Assert.True(after >= 3);
        Assert.Contains(j, e => e.Event == "tick:beat:1,2,3");
        var final = (await rig.JournalAsync("ReminderActor", id)).Count(e => e.Event.StartsWith("tick:beat", StringComparison.Ordinal));
        Assert.True(final <= after + 1, $"reminder kept firing after unregister: {after} then {final}");
    }

    [Fact]
    public async Task Reminder_GetReturnsRegisteredStrings_UnknownIs404()
    {
        var id = NewId();
        await rig.Proxy<IReminderActor>("ReminderActor", id).Arm("later", 60_000, 0, 0);
        using var http = new HttpClient();

        using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri($"{rig.Host.HttpEndpoint}/v1.0/actors/ReminderActor/{id}/reminders/later"), Ct));
        using var missing = await http.GetAsync(new Uri($"{rig.Host.HttpEndpoint}/v1.0/actors/ReminderActor/{id}/reminders/nope"), Ct);

        Assert.Equal("0h1m0s0ms", doc.RootElement.GetProperty("dueTime").GetString());
        Assert.Equal(id, doc.RootElement.GetProperty("actorID").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("ERR_ACTOR_REMINDER_NOT_FOUND", await missing.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reminder_FailingCallback_RetriedThreeTimesThenDropped()
    {
        var id = NewId();

        await rig.Proxy<IReminderActor>("ReminderActor", id).Arm("flaky", 100, 0, 100);
        var j = await rig.WaitJournalAsync("ReminderActor", id, j => j.Count(e => e.Event == "attempt:flaky") >= 4, TimeSpan.FromSeconds(10));
        await Task.Delay(2000, Ct);

        var attempts = (await rig.JournalAsync("ReminderActor", id)).Where(e => e.Event == "attempt:flaky").OrderBy(e => e.Start).ToList();
        Assert.Equal(4, attempts.Count);
        Assert.True(attempts[3].Start - attempts[2].Start >= TimeSpan.FromMilliseconds(900), "retries are 1 s apart");
        using var http = new HttpClient();
        using var gone = await http.GetAsync(new Uri($"{rig.Host.HttpEndpoint}/v1.0/actors/ReminderActor/{id}/reminders/flaky"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Reminder_OnTypeThisAppDoesNotHost_Is403()
    {
        using var http = new HttpClient();
        using var content = new StringContent("""{"dueTime":"0h0m1s0ms","period":""}""", Encoding.UTF8, "application/json");

        using var r = await http.PutAsync(new Uri($"{rig.Caller.HttpEndpoint}/v1.0/actors/ReminderActor/{NewId()}/reminders/x"), content, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Contains("ERR_ACTOR_REMINDER_NON_HOSTED", await r.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idle_ActorDeactivatedWithDelete_AndItsTimerStops()
    {
        var id = NewId();

        // Idle timeout is 1.5 s; the timer's first tick is due at 4 s, so the actor goes idle first.
        await rig.Proxy<ITimerActor>("TimerActor", id).StartTimer(4000, 4000);
        var j = await rig.WaitJournalAsync("TimerActor", id, j => j.Any(e => e.Event == "deactivated"), TimeSpan.FromSeconds(10));
        await Task.Delay(4000, Ct);

        Assert.Contains(j, e => e.Event == "deactivated");
        Assert.DoesNotContain(await rig.JournalAsync("TimerActor", id), e => e.Event == "tick");
    }

    [Fact]
    public async Task Timer_FiresWhileActorIsActive()
    {
        var id = NewId();

        await rig.Proxy<ITimerActor>("TimerActor", id).StartTimer(100, 200);
        var j = await rig.WaitJournalAsync("TimerActor", id, j => j.Count(e => e.Event == "tick") >= 3, TimeSpan.FromSeconds(10));

        Assert.True(j.Count(e => e.Event == "tick") >= 3);
    }

    [Fact]
    public async Task Placement_ActorOfAppA_CalledThroughAppBsSidecar()
    {
        var id = NewId();

        var result = await rig.Proxy<IRecorder>("RecorderActor", id, via: rig.Caller).Work(4);
        var json = await rig.Untyped("RecorderActor", id, via: rig.Caller).InvokeMethodAsync<int, int>("Work", 1, Ct);

        Assert.Equal(8, result);
        Assert.Equal(2, json);
    }

    [Fact]
    public async Task Placement_TypeHostedNowhere_IsErrActorNoAddress()
    {
        using var http = new HttpClient();

        using var r = await http.PutAsync(new Uri($"{rig.Caller.HttpEndpoint}/v1.0/actors/NoSuchActor/x/method/M"), null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Contains("ERR_ACTOR_NO_ADDRESS", await r.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_WithForbiddenCharacters_Are400()
    {
        using var http = new HttpClient();

        using var r = await http.PutAsync(new Uri($"{rig.Host.HttpEndpoint}/v1.0/actors/RecorderActor/a%23b/method/Work"), null, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
    }
}
