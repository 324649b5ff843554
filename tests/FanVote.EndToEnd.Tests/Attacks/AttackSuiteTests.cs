using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapr.Client;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;
using FanVote.Testing;
using Npgsql;

namespace FanVote.EndToEnd.Tests.Attacks;

/// <summary>
/// Issue 11's table, replayed against the whole system as `./fanvote up` runs it, by someone on the same host who holds
/// no secret (every port is reachable) and, where a row says so, by an insider holding the sidecars' API token. Each
/// test asserts the refusal and then that nothing changed: the counts of a closed and an open window, the certified
/// result as the orchestrator and results serve it, the live results, every balance and the ledger, and the audits
/// (<see cref="AttackRig.AssertUnchangedAsync"/>). tests/mutations/run-attacks.sh shows each row catching its attack:
/// it switches one protection off at a time (tests/mutations/attacks/*.patch), rebuilds and requires the rows that
/// patch names to fail.
/// </summary>
[Collection(AttackSystem.Name)]
public sealed class AttackSuiteTests(AttackRig rig)
{
    private static readonly HttpClient Stranger = new() { Timeout = TimeSpan.FromSeconds(30) };

    private PipelineRig Pipeline => rig.Pipeline;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Row01_RewardRequest_StraightToRewards_Refused_NoPointsMinted()
    {
        var attacker = rig.Fans[5];
        var before = await BalanceAsync(attacker);
        var credit = Event(new RewardRequested { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = rig.Closed, AccountId = attacker.AccountId, Reason = "bonus", Points = 1_000_000_000 });

        var plain = await PostAsync($"{Pipeline.Rewards!.BaseUrl}/reward-requests", credit);
        var guessed = await PostAsync($"{Pipeline.Rewards.BaseUrl}/reward-requests", credit, ("dapr-api-token", TestKeys.AppToken("tally")));
        var viaSidecar = await PostAsync($"{Pipeline.Rewards.Sidecar.HttpEndpoint}/v1.0/publish/vote-bus/reward-requests", credit);

        Assert.Equal(HttpStatusCode.Unauthorized, plain);
        Assert.Equal(HttpStatusCode.Unauthorized, guessed);
        Assert.Equal(HttpStatusCode.Unauthorized, viaSidecar);
        Assert.Equal(before, await BalanceAsync(attacker));
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row02_VoteDelivery_StraightToTallyAfterTheClose_Refused_AndAnInsidersUnsealedVoteIsQuarantinedNotCounted()
    {
        var vote = new VoteAccepted
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, VoteId = Guid.CreateVersion7(), WindowId = rig.Closed, CandidateId = "comet",
            AccountId = rig.Fans[1].AccountId, DeviceId = rig.Fans[1].Device, Ip = rig.Fans[1].Ip, AccountCreatedAt = DateTimeOffset.UtcNow.AddDays(-90),
            Seal = "",
        };
        var bulk = JsonSerializer.Serialize(new { entries = new[] { new { entryId = "1", @event = new { data = vote }, contentType = "application/cloudevents+json" } } }, FanVoteJson.Options);

        var direct = await PostAsync($"{Pipeline.Tally.BaseUrl}/votes", bulk);
        Assert.Equal(HttpStatusCode.Unauthorized, direct);

        // Even with the API token, through a sidecar of the one app that may publish votes: no seal, so never counted.
        var ingress = await rig.Insider.AsAsync(AppIds.Ingress);
        await ingress.PublishEventAsync(ComponentNames.VoteBus, Topics.Votes, vote, Ct);
        await AttackRig.WaitAsync(async () => await QuarantineReasonAsync(vote.VoteId) is not null, "tally quarantines the unsealed vote", 60);

        Assert.Contains(await QuarantineReasonAsync(vote.VoteId), new[] { "unsealed", "bad-seal" });
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row03_VotePublished_ThroughTheResultsAppsSidecar_RefusedWithAndWithoutItsToken()
    {
        var results = Pipeline.Results.Sidecar;
        var vote = TestVotes.Sealed(rig.Open, "blaze", rig.Fans[2].AccountId, rig.Fans[2].Device, rig.Fans[2].Ip, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(-30));
        var body = JsonSerializer.Serialize(vote, FanVoteJson.Options);

        var anonymous = await PostAsync($"{results.HttpEndpoint}/v1.0/publish/vote-bus/votes", body);
        var scoped = await PostAsync($"{results.HttpEndpoint}/v1.0/publish/vote-bus/votes", body, ("dapr-api-token", TestKeys.DaprApiToken));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Equal(HttpStatusCode.Forbidden, scoped); // publishingScopes: results publishes nothing
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row04_WindowScheduled_StraightToIngress_Refused_TheClosedWindowStaysClosed()
    {
        var reopen = Event(new WindowScheduled
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = rig.Closed, Title = "reopened", Candidates = AttackRig.Candidates,
            OpensAt = DateTimeOffset.UtcNow.AddMinutes(-1), ClosesAt = DateTimeOffset.UtcNow.AddHours(1), VotesPerAccount = 1000,
        });

        var direct = await PostAsync($"{Pipeline.Ingress.BaseUrl}/window-events/scheduled", reopen, ("ce-type", EventTypes.WindowScheduled));
        var late = await rig.VoteAsync(rig.Fans[3], rig.Closed, "comet");

        Assert.Equal(HttpStatusCode.Unauthorized, direct);
        Assert.Equal(HttpStatusCode.Conflict, late.Status);
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row05_BlockVerdict_StraightToIngress_Refused_TheVictimStillVotes()
    {
        var victim = await rig.SignInAsync("atk-victim-" + Guid.NewGuid().ToString("N"), "198.51.100.40");
        var block = Event(new RiskVerdictIssued
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, SubjectKind = RiskSubjects.Device, Subject = victim.Device, Score = 1,
            ReasonCodes = ["device-farm"], Action = RiskAction.Block, ModelVersion = "forged", ExpiresAt = DateTimeOffset.UtcNow.AddHours(1),
        });

        var direct = await PostAsync($"{Pipeline.Ingress.BaseUrl}/risk-verdicts", block);
        var vote = await rig.VoteAsync(victim, rig.Voting, "aurora");

        Assert.Equal(HttpStatusCode.Unauthorized, direct);
        Assert.Equal(HttpStatusCode.Accepted, vote.Status);
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row06_TallySnapshot_StraightToResults_Refused_LiveResultsUnchanged()
    {
        var frozen = Event(new TallyUpdated
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = rig.Open, Seq = long.MaxValue - 1, Total = 9_999_999,
            Counts = new Dictionary<string, long> { ["aurora"] = 9_999_999, ["blaze"] = 0, ["comet"] = 0 },
        });

        var direct = await PostAsync($"{Pipeline.Results.BaseUrl}/tally-updated", frozen);
        var viaSidecar = await PostAsync($"{Pipeline.Results.Sidecar.HttpEndpoint}/v1.0/publish/vote-bus/tally-updated", frozen, ("dapr-api-token", TestKeys.DaprApiToken));

        Assert.Equal(HttpStatusCode.Unauthorized, direct);
        Assert.Equal(HttpStatusCode.Forbidden, viaSidecar); // only tally publishes tally-updated
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row07_WorkflowAndActorCalls_WithoutTheTokens_RefusedOnTheAppAndOnAnySidecar_NoWindowCreated()
    {
        var id = "atk-wf-" + Guid.NewGuid().ToString("N")[..6];
        var definition = JsonSerializer.Serialize(new { windowId = id, title = "x", candidates = new[] { "a" }, opensAt = DateTimeOffset.UtcNow, closesAt = DateTimeOffset.UtcNow.AddDays(-1), votesPerAccount = 0, stepByStep = false });
        var run = new
        {
            definition = new { windowId = id, title = "x", candidates = new[] { "a", "b" }, opensAt = DateTimeOffset.UtcNow, closesAt = DateTimeOffset.UtcNow.AddHours(1), votesPerAccount = 1 },
            stepByStep = false, timings = new { },
        };

        // Windows are workflows now: the app has no actor routes at all, and the sidecars' workflow API wants the API token.
        var app = await SendAsync(HttpMethod.Put, $"{Pipeline.Orchestrator.BaseUrl}/actors/WindowActor/{id}/method/CreateAsync", definition);
        var ownSidecarActors = await SendAsync(HttpMethod.Put, $"{Pipeline.Orchestrator.Sidecar.HttpEndpoint}/v1.0/actors/WindowActor/{id}/method/CreateAsync", definition);
        var otherSidecarActors = await SendAsync(HttpMethod.Put, $"{Pipeline.Ingress.Sidecar.HttpEndpoint}/v1.0/actors/WindowActor/{rig.Open}/method/GetAsync", "");
        var read = await SendAsync(HttpMethod.Get, $"{Pipeline.Orchestrator.BaseUrl}/v1/windows/{rig.Open}", null);
        var workflowCalls = new List<Grpc.Core.StatusCode>();
        foreach (var sidecar in new[] { Pipeline.Orchestrator.Sidecar, Pipeline.Ingress.Sidecar })
        {
            await using var stranger = new Dapr.Workflow.Registration.DaprWorkflowClientBuilder().UseGrpcEndpoint(sidecar.GrpcEndpoint).Build();
            workflowCalls.Add((await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => stranger.ScheduleNewWorkflowAsync("WindowLifecycleWorkflow", id, run, null, Ct))).StatusCode);
            workflowCalls.Add((await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => stranger.RaiseEventAsync(rig.Open, "continue", new { phase = "Open" }, Ct))).StatusCode);
            workflowCalls.Add((await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => stranger.TerminateWorkflowAsync(rig.Open, null, Ct))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, app);
        Assert.Equal(HttpStatusCode.Unauthorized, ownSidecarActors);
        Assert.Equal(HttpStatusCode.Unauthorized, otherSidecarActors);
        Assert.Equal(HttpStatusCode.Unauthorized, read);
        Assert.All(workflowCalls, c => Assert.Equal(Grpc.Core.StatusCode.Unauthenticated, c));
        using var status = await rig.OperatorAsync(HttpMethod.Get, $"/v1/windows/{id}");
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row08_WindowAudited_Forged_WithARecomputedDigest_RefusedStraightAndFromAnInsider_CertifiedUnchanged()
    {
        using var certifiedAnswer = await rig.OperatorAsync(HttpMethod.Get, $"/v1/windows/{rig.Closed}/certified");
        var certified = (await certifiedAnswer.Content.ReadFromJsonAsync<CertifiedResult>(FanVoteJson.Options, Ct))!;
        var flipped = certified with
        {
            WindowId = rig.Open,
            Counts = certified.Counts.ToDictionary(kv => kv.Key, kv => kv.Key == "comet" ? kv.Value + 10_000 : kv.Value),
            Total = certified.Total + 10_000,
            Winners = ["comet"],
        };
        flipped = flipped with { Digest = CertifiedDigest.Compute(flipped) };
        var forged = new WindowAudited { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = rig.Open, Result = flipped };

        var direct = await PostAsync($"{Pipeline.Orchestrator.BaseUrl}/window-reports/audited", Event(forged));
        Assert.Equal(HttpStatusCode.Unauthorized, direct);

        // Through tally's own sidecar (tally may publish window reports): the digest is right, the auditor's signature is not there.
        var tally = await rig.Insider.AsAsync(AppIds.Tally);
        await tally.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowReports, forged, Ct);
        await tally.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowReports, forged with { EventId = Guid.NewGuid(), WindowId = rig.Closed, Result = flipped with { WindowId = rig.Closed } }, Ct);
        await rig.DeliveredAsync(Topics.WindowReports, AppIds.Orchestrator);

        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row09_WindowCertified_ForAWindowStillOpen_RefusedStraightAndFromAnInsider()
    {
        using var certifiedAnswer = await rig.OperatorAsync(HttpMethod.Get, $"/v1/windows/{rig.Closed}/certified");
        var certified = (await certifiedAnswer.Content.ReadFromJsonAsync<CertifiedResult>(FanVoteJson.Options, Ct))!;
        var early = certified with { WindowId = rig.Open };
        early = early with { Digest = CertifiedDigest.Compute(early) };
        var forged = new WindowCertified { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = rig.Open, Result = early };

        var direct = await PostAsync($"{Pipeline.Results.BaseUrl}/window-events/certified", Event(forged), ("ce-type", EventTypes.WindowCertified));
        Assert.Equal(HttpStatusCode.Unauthorized, direct);

        // Through the orchestrator's own sidecar (it may publish window events): the result carries another window's signature.
        var orchestrator = await rig.Insider.AsAsync(AppIds.Orchestrator);
        await orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowEvents, forged, new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.WindowCertified }, Ct);
        await rig.DeliveredAsync(Topics.WindowEvents, AppIds.Results);

        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row10_AuditRequested_WhileTheWindowIsOpen_RefusedStraightAndFromAnInsider_NoAuditFrozen()
    {
        var request = new AuditRequested
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = rig.Open, Seq = 1, Candidates = AttackRig.Candidates, Accepted = 7,
            Unconfirmed = [], Nonce = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), ClosesAt = DateTimeOffset.UtcNow.AddMinutes(-1),
        };

        var direct = await PostAsync($"{Pipeline.Tally.BaseUrl}/window-requests/audit", Event(request));
        Assert.Equal(HttpStatusCode.Unauthorized, direct);

        // Through the orchestrator's own sidecar: tally audits only a window it knows to be closed, so nothing is frozen.
        var orchestrator = await rig.Insider.AsAsync(AppIds.Orchestrator);
        await orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowRequests, request, new Dictionary<string, string> { [EventTypes.MetadataKey] = EventTypes.AuditRequested }, Ct);
        await rig.DeliveredAsync(Topics.WindowRequests, AppIds.Tally);
        await AttackRig.WaitAsync(() => Task.FromResult(Pipeline.Tally.App.Output.Contains($"audit of window {rig.Open} refused", StringComparison.Ordinal)), "tally logs the refused audit", 60);

        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row11_TokenSignedWithTheDevelopmentKey_Refused_ByIngressAndRewards()
    {
        var victim = rig.Fans[4];
        var tokens = new[] { ("dev", KeySet.DevelopmentKey("token")), ("t1", KeySet.DevelopmentKey("token")) }
            .Select(k =>
            {
                using var t = new SessionTokens([k], TimeSpan.FromHours(1), TimeProvider.System);
                return t.Issue(victim.AccountId, victim.Device, SessionKind.Otp, DateTimeOffset.UtcNow.AddDays(-100), FanConsent.Voting);
            }).ToList();

        foreach (var token in tokens)
        {
            var vote = await rig.VoteAsync(victim with { Token = token }, rig.Voting, "aurora");
            using var balance = new HttpRequestMessage(HttpMethod.Get, $"{Pipeline.Rewards!.BaseUrl}/v1/me/balance");
            balance.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var read = await Stranger.SendAsync(balance, Ct);

            Assert.Equal(HttpStatusCode.Unauthorized, vote.Status);
            Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
        }

        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row12_ChallengeAnswer_NotPublished_AnOldOrGuessedAnswerRefused_TheBotStaysChallenged()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepoRoot, "README.md"), Ct);
        Assert.DoesNotContain("i-am-a-fan", readme, StringComparison.Ordinal);

        var bot = await rig.SignInAsync("atk-bot-" + Guid.NewGuid().ToString("N"), "198.51.100.50");
        await Verdict(bot.AccountId, RiskSubjects.Account, RiskAction.Challenge);
        var challenged = await ChallengedAsync(bot);

        foreach (var guess in new[] { "i-am-a-fan", "fanvote", TestKeys.ChallengeAnswer[..^1] })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, await AnswerAsync(bot, challenged, guess));
        }

        Assert.Equal(HttpStatusCode.BadRequest, await AnswerAsync(bot, challenged, ""));

        Assert.Equal(HttpStatusCode.Forbidden, (await rig.VoteAsync(bot, rig.Voting, "blaze")).Status);
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row13_ADifferentDeviceHeaderPerRequest_Ignored_TheTokensDeviceIsRecorded_AndItsVerdictHolds()
    {
        var fan = await rig.SignInAsync("atk-phone-" + Guid.NewGuid().ToString("N"), "198.51.100.60");
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var a = await rig.VoteAsync(fan, rig.Voting, "comet", tamper: r => r.Headers.Add("X-Device-Id", $"spoofed-{i}-{Guid.NewGuid():N}"));
            Assert.Equal(HttpStatusCode.Accepted, a.Status);
            ids.Add(a.VoteId!.Value);
        }

        await AttackRig.WaitAsync(async () => (await DevicesOfAsync(ids)).Count == ids.Count, "the votes reach the ledger", 60);
        Assert.All(await DevicesOfAsync(ids), d => Assert.Equal(fan.Device, d));

        await Verdict(fan.Device, RiskSubjects.Device, RiskAction.Block);
        await AttackRig.WaitAsync(async () => (await rig.VoteAsync(fan, rig.Voting, "comet")).Status == HttpStatusCode.Forbidden, "ingress applies the device's block", 60);
        var dodge = await rig.VoteAsync(fan, rig.Voting, "comet", tamper: r => r.Headers.Add("X-Device-Id", "a-clean-device"));
        Assert.Equal(HttpStatusCode.Forbidden, dodge.Status);
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row14_OtpRequest_TheCodeIsNeverInTheLog()
    {
        var contact = $"atk-{Guid.NewGuid():N}@example.com";
        using var ask = await Pipeline.IngressHttp.PostAsJsonAsync("/v1/sessions/otp", new { email = contact }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, ask.StatusCode);
        string? code = null;
        await AttackRig.WaitAsync(() => Task.FromResult((code = OutboxCode(contact)) is not null), "the passcode reaches the development outbox", 30);

        using var verify = await Pipeline.IngressHttp.PostAsJsonAsync("/v1/sessions/otp/verify", new { email = contact, code, deviceId = "atk-otp-device", consent = TestConsent.Fan }, Ct);
        Assert.Equal(HttpStatusCode.OK, verify.StatusCode); // the code is the real one...
        Assert.DoesNotContain(code!, Pipeline.Ingress.App.Output, StringComparison.Ordinal); // ...and the log never had it
        Assert.DoesNotContain(contact, Pipeline.Ingress.App.Output, StringComparison.Ordinal);
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row15_RetryOfAnAcceptedVote_AfterTheAccountWasChallenged_KeepsItsOriginal202()
    {
        var fan = await rig.SignInAsync("atk-retry-" + Guid.NewGuid().ToString("N"), "198.51.100.70");
        var key = Guid.NewGuid().ToString("N");
        var first = await rig.VoteAsync(fan, rig.Voting, "aurora", key);
        Assert.Equal(HttpStatusCode.Accepted, first.Status);

        await Verdict(fan.AccountId, RiskSubjects.Account, RiskAction.Challenge);
        await ChallengedAsync(fan);
        var retry = await rig.VoteAsync(fan, rig.Voting, "aurora", key);

        Assert.Equal(HttpStatusCode.Accepted, retry.Status);
        Assert.Equal(first.VoteId, retry.VoteId);
        await rig.AssertUnchangedAsync();
    }

    [Fact]
    public async Task Row16_PointsLedger_RewardsRoleCannotRewriteIt_AndARewriteWithoutTheKeyFailsVerify()
    {
        Assert.Equal(0, (await LedgerVerifyAsync()).Exit);

        // The role rewards connects as: insert and read only, not the owner, cannot switch the trigger off.
        await using (var asRewards = NpgsqlDataSource.Create(Pipeline.RewardsConnection))
        {
            foreach (var sql in new[]
            {
                "UPDATE ledger_entries SET amount = 999999 WHERE seq = 1",
                "DELETE FROM ledger_entries WHERE seq = 1",
                "TRUNCATE ledger_entries",
                "ALTER TABLE ledger_entries DISABLE TRIGGER ALL",
            })
            {
                await using var cmd = asRewards.CreateCommand(sql);
                var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync(Ct));
                Assert.True(e.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {e.SqlState} {e.MessageText}");
            }
        }

        // The database's superuser can: a row's amount raised and its hash replaced (without the ledger key no hash it
        // can compute is the keyed one); verify names it. The row is put back afterwards for the other attacks.
        await using var admin = NpgsqlDataSource.Create(Pipeline.Db.ConnectionString);
        long seq;
        long amount;
        string hash;
        await using (var first = admin.CreateCommand("SELECT seq, amount, encode(hash, 'hex') FROM ledger_entries ORDER BY seq LIMIT 1"))
        await using (var r = await first.ExecuteReaderAsync(Ct))
        {
            Assert.True(await r.ReadAsync(Ct), "the closed window's payout wrote ledger rows");
            (seq, amount, hash) = (r.GetInt64(0), r.GetInt64(1), r.GetString(2));
        }

        await ExecAsync(admin, $"ALTER TABLE ledger_entries DISABLE TRIGGER USER; UPDATE ledger_entries SET amount = amount + 1000000, hash = sha256(hash) WHERE seq = {seq}; ALTER TABLE ledger_entries ENABLE TRIGGER USER");
        (int Exit, string Output) tampered;
        try
        {
            tampered = await LedgerVerifyAsync();
        }
        finally
        {
            await ExecAsync(admin, $"ALTER TABLE ledger_entries DISABLE TRIGGER USER; UPDATE ledger_entries SET amount = {amount}, hash = decode('{hash}', 'hex') WHERE seq = {seq}; ALTER TABLE ledger_entries ENABLE TRIGGER USER");
        }

        Assert.True(tampered.Exit == 1, "ledger verify must fail on a rewritten row: " + tampered.Output);
        Assert.Contains("FAILED", tampered.Output, StringComparison.Ordinal);
    }

    private static async Task ExecAsync(NpgsqlDataSource db, string sql)
    {
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>`./fanvote ledger verify` as an auditor runs it: the ledger key and the anchor file, read access to the database.</summary>
    private async Task<(int Exit, string Output)> LedgerVerifyAsync()
    {
        await using var cli = ManagedProcess.Dotnet("cli", TestEnvironment.ProjectDll("FanVote.Cli"), ["ledger", "verify"], new Dictionary<string, string?>
        {
            ["FANVOTE_REWARDS_PG_CONNECTION"] = Pipeline.RewardsConnection,
            ["FANVOTE_LEDGER_KEY"] = Convert.ToBase64String(TestKeys.LedgerKey),
            ["FANVOTE_LEDGER_ANCHORS"] = Pipeline.LedgerAnchors,
        }).Start();
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(100); // let the output readers drain
        return (exit, cli.Output);
    }

    private static string Event<T>(T e) => JsonSerializer.Serialize(e, FanVoteJson.Options);

    private static async Task<HttpStatusCode> PostAsync(string url, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var r = await Stranger.SendAsync(request, Ct);
        return r.StatusCode;
    }

    private static async Task<HttpStatusCode> SendAsync(HttpMethod method, string url, string? body)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var r = await Stranger.SendAsync(request, Ct);
        return r.StatusCode;
    }

    private async Task<long> BalanceAsync(Fan fan)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Pipeline.Rewards!.BaseUrl}/v1/me/balance");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fan.Token);
        using var r = await Stranger.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("balance").GetInt64();
    }

    /// <summary>What the fraud service does, through fraud's own sidecar: a verdict on a subject.</summary>
    private Task Verdict(string subject, string kind, RiskAction action) =>
        Pipeline.FraudClient!.PublishEventAsync(ComponentNames.VoteBus, Topics.RiskVerdicts, new RiskVerdictIssued
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, SubjectKind = kind, Subject = subject, Score = 0.99,
            ReasonCodes = ["device-farm"], Action = action, ModelVersion = "attack-suite", ExpiresAt = DateTimeOffset.UtcNow.AddHours(1),
        }, Ct);

    /// <summary>Votes until ingress answers 403 with a challenge; returns the challenge id.</summary>
    private async Task<string> ChallengedAsync(Fan fan)
    {
        string? id = null;
        await AttackRig.WaitAsync(async () =>
        {
            var a = await rig.VoteAsync(fan, rig.Voting, "blaze");
            id = a.ChallengeId;
            return a.Status == HttpStatusCode.Forbidden && id is not null;
        }, "ingress challenges the account", 60);
        return id!;
    }

    private async Task<HttpStatusCode> AnswerAsync(Fan fan, string challengeId, string answer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/challenges/{challengeId}") { Content = JsonContent.Create(new { answer }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fan.Token);
        request.Headers.Add("X-Forwarded-For", fan.Ip);
        using var r = await Pipeline.IngressHttp.SendAsync(request, Ct);
        return r.StatusCode;
    }

    private async Task<string?> QuarantineReasonAsync(Guid voteId)
    {
        await using var db = NpgsqlDataSource.Create(Pipeline.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT reason FROM quarantined_votes WHERE vote_id = $1");
        cmd.Parameters.AddWithValue(voteId);
        try
        {
            return (string?)await cmd.ExecuteScalarAsync(Ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    private async Task<List<string>> DevicesOfAsync(List<Guid> ids)
    {
        await using var db = NpgsqlDataSource.Create(Pipeline.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT device_id FROM votes WHERE vote_id = ANY($1)");
        cmd.Parameters.AddWithValue(ids.ToArray());
        var devices = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(Ct);
        while (await r.ReadAsync(Ct))
        {
            devices.Add(r.GetString(0));
        }

        return devices;
    }

    /// <summary>The newest passcode the development outbox holds for <paramref name="contact"/>.</summary>
    private string? OutboxCode(string contact)
    {
        foreach (var file in Directory.EnumerateFiles(rig.OtpOutbox, "*", SearchOption.AllDirectories))
        {
            foreach (var line in File.ReadLines(file).Reverse())
            {
                if (line.Contains(contact, StringComparison.Ordinal))
                {
                    var m = System.Text.RegularExpressions.Regex.Match(line, @"\b(\d{6})\b");
                    if (m.Success)
                    {
                        return m.Groups[1].Value;
                    }
                }
            }
        }

        return null;
    }
}

/// <summary>One system for every attack (starting it takes a minute); the attacks run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class AttackSystem : ICollectionFixture<AttackRig>
{
    public const string Name = "attack suite";
}
