using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using FanVote.Testing;
using Npgsql;

namespace FanVote.EndToEnd.Tests;

/// <summary>One rig for the lifecycle runs: the pipeline plus rewards and a `fraud` sidecar; runs share it, one window each.</summary>
public sealed class LifecycleRig : IAsyncLifetime
{
    public PipelineRig Pipeline { get; } = new(lifecycle: true);

    /// <summary>Each run's outcome, so runs can be compared with each other.</summary>
    public ConcurrentDictionary<string, RunOutcome> Outcomes { get; } = new();

    public ValueTask InitializeAsync() => Pipeline.InitializeAsync();

    public ValueTask DisposeAsync() => Pipeline.DisposeAsync();
}

/// <summary>What must come out the same whatever was killed: certified counts, exclusions, winners, and each fan's points (by fan number).</summary>
public sealed record RunOutcome(string Counts, string ExcludedByReason, string Winners, long Total, long Excluded, long Voters, string Balances);

/// <summary>
/// A window from creation to Completed with votes and fraud-flagged votes: the certified counts equal an independent
/// count of the ledger minus the flagged votes, receipts prove counted votes and not excluded ones, and every counted
/// voter is credited exactly once — also with the orchestrator (app, sidecar or both) or the rewards service killed
/// with SIGKILL at each step in turn.
/// </summary>
public sealed partial class LifecycleTests(LifecycleRig fixture, ITestOutputHelper output) : IClassFixture<LifecycleRig>
{
    private static readonly string[] Candidates = ["aurora", "blaze", "comet"];
    private static readonly string[] Phases = ["Scheduled", "Open", "Closed", "Drained", "Audited", "PaidOut", "Completed"];
    private const int Accounts = 40;
    private const int PerAccount = 3;
    private PipelineRig Rig => fixture.Pipeline;

    private enum Kill
    {
        Orchestrator,
        Rewards,

        /// <summary>The rewards app down from before the window opens until its payout has waited for it a while.</summary>
        RewardsDown,

        /// <summary>As <see cref="RewardsDown"/>, but hung (SIGSTOP): its port still takes connections and answers nothing.</summary>
        RewardsHung,
    }

    [Fact]
    public Task Lifecycle_WindowWithFlaggedVotes_CertifiedCountsMatchTheLedgerAndEachVoterIsPaidOnce() => RunAsync(null);

    [Fact]
    public Task Lifecycle_OrchestratorKilledAtEachStep_SameCertifiedResultAndBalances() => RunAsync(Kill.Orchestrator);

    [Fact]
    public Task Lifecycle_RewardsKilledAtEachStep_SameCertifiedResultAndBalances() => RunAsync(Kill.Rewards);

    /// <summary>
    /// A failure outside the vote path does not spread into it: with rewards down for the whole window, every vote is
    /// accepted, persisted and shown live, the window closes, drains and is certified on time; only its payout waits,
    /// asking again, and it completes once rewards is back, with the same result and balances as every other run.
    /// </summary>
    [Fact]
    public async Task Lifecycle_RewardsDownThroughTheWindow_VotingCountingAndLiveResultsUnaffected_PayoutWaitsAndResumes()
    {
        try
        {
            await RunAsync(Kill.RewardsDown);
        }
        finally
        {
            if (Rig.Rewards!.App.HasExited)
            {
                Rig.Rewards.App.Start(); // the other runs of this rig need it
                await Rig.Rewards.WaitReadyAsync(TimeSpan.FromSeconds(90));
            }
        }
    }

    /// <summary>
    /// A hung rewards (it takes connections and never answers, the slow case at its worst) does not spread either: calls
    /// to it time out instead of failing fast, and still voting, counting and live results are unaffected; the payout
    /// waits and completes once rewards answers again, with the same result and balances.
    /// </summary>
    [Fact]
    public async Task Lifecycle_RewardsHungThroughTheWindow_VotingCountingAndLiveResultsUnaffected_PayoutWaitsAndResumes()
    {
        try
        {
            await RunAsync(Kill.RewardsHung);
        }
        finally
        {
            await Rig.Rewards!.App.ResumeAsync(); // SIGCONT to a running process changes nothing
        }
    }

    private async Task RunAsync(Kill? kill)
    {
        var window = "lc-" + Guid.NewGuid().ToString("N")[..8];
        var fans = new Fans(Rig.IngressHttp, window, Candidates, Accounts, PerAccount);
        var tokens = await fans.SignInAsync();
        var accounts = tokens.Select(Eventually.AccountOf).ToArray();
        var opensAt = DateTimeOffset.UtcNow.AddSeconds(2);
        // Open long enough for 120 votes on a 2-core machine shared with other work (ingress closes by its own clock).
        var stepByStep = kill is Kill.Orchestrator or Kill.Rewards;
        if (kill == Kill.RewardsDown)
        {
            await Rig.Rewards!.App.KillAsync();
        }
        else if (kill == Kill.RewardsHung)
        {
            await Rig.Rewards!.App.PauseAsync();
        }

        await Rig.CreateWindowAsync(window, Candidates, PerAccount, opensAt, opensAt.AddSeconds(40), stepByStep);
        var killed = new List<string>();
        var flagsStored = new TaskCompletionSource();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(300));
        var watcher = WatchAsync(window, kill, killed, flagsStored.Task, stop.Token);
        await Eventually.UntilAsync(async () => await IngressKnowsAsync(window, tokens[0]), "ingress knows the window");
        var untilOpen = opensAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200);
        if (untilOpen > TimeSpan.Zero)
        {
            await Task.Delay(untilOpen, TestContext.Current.CancellationToken);
        }

        await fans.VoteAsync(tokens, concurrency: 16);
        Assert.Equal(Accounts * PerAccount, fans.Accepted.Count);
        await Eventually.UntilAsync(async () => await Rig.LedgerCountAsync(window) == fans.Accepted.Count, "every accepted vote persisted");
        await Eventually.UntilAsync(async () => (await Rig.ResultsAsync(window)).GetProperty("total").GetInt64() == fans.Accepted.Count, "the live results show every vote");

        var flagged = await FlagBotsAsync(window, accounts);
        await Eventually.UntilAsync(async () => await FlagCountAsync(window) == flagged.Count, "tally stored every flag");
        var flagsStoredAt = DateTimeOffset.UtcNow;
        flagsStored.SetResult();

        List<string> phasesSeen;
        try
        {
            phasesSeen = await watcher;
        }
        catch (Exception)
        {
            foreach (var host in new[] { Rig.Orchestrator, Rig.Tally, Rig.Rewards!, Rig.Results, Rig.Ingress })
            {
                output.WriteLine($"--- {host.AppId}:\n{string.Join('\n', host.App.Output.Split('\n').TakeLast(40))}");
            }

            throw;
        }

        if (!stepByStep)
        {
            // An automatic window waits FlagGrace (5 s here) after the drain; on a machine too slow for that the flags came late.
            using var drained = await OperatorAsync($"/v1/windows/{window}");
            var drainedAt = drained.RootElement.GetProperty("drain").GetProperty("at").GetDateTimeOffset();
            Assert.True(flagsStoredAt <= drainedAt.AddSeconds(5), $"the flags were stored at {flagsStoredAt:O}, after the audit's flag grace ended (drained {drainedAt:O})");
        }

        output.WriteLine($"{window}: phases {string.Join(" → ", phasesSeen)}; killed {(kill is null ? "nothing" : $"{kill} at " + string.Join(", ", killed))}");

        using var status = await OperatorAsync($"/v1/windows/{window}");
        Assert.Equal("Completed", status.RootElement.GetProperty("phase").GetString());
        Assert.Equal(Phases, status.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("phase").GetString()));
        if (stepByStep)
        {
            Assert.Equal(Phases, killed);
        }
        else if (kill is Kill.RewardsDown or Kill.RewardsHung)
        {
            Assert.Equal(["Audited"], killed); // it waited at its payout, and only there
        }

        var certified = (await OperatorAsync($"/v1/windows/{window}/certified")).RootElement.Deserialize<CertifiedResult>(FanVoteJson.Options)!;
        Assert.True(CertifiedDigest.Matches(certified));
        var outcome = await CheckCertifiedAgainstTheLedgerAsync(window, certified, flagged, fans.Accepted.Count);
        await CheckAuditReportAsync(window, certified);
        await CheckPaidOnceAsync(window, certified, accounts, flagged, outcome);
        await CheckEachFactPublishedOnceAsync(window);
        await CheckReceiptsAsync(window, certified, flagged);

        var mine = outcome with { Balances = await BalancesByFanAsync(accounts) };
        fixture.Outcomes[window] = mine;
        foreach (var other in fixture.Outcomes.Values)
        {
            Assert.Equal(other, mine);
        }
    }

    /// <summary>
    /// Polls the window's status until Completed. With a kill target the window runs step by step: in every phase the
    /// watcher gives the go for the next step and at once SIGKILLs the target — the app, the sidecar or both in turn —
    /// while that step is under way, restarts it and waits until it is ready. The window cannot move past the next
    /// phase meanwhile, so each phase gets its kill however slow the machine is.
    /// </summary>
    private async Task<List<string>> WatchAsync(string window, Kill? kill, List<string> killed, Task flagsStored, CancellationToken ct)
    {
        var seen = new List<string>();
        var last = "";
        while (!ct.IsCancellationRequested)
        {
            JsonElement status;
            try
            {
                using var doc = await OperatorAsync($"/v1/windows/{window}");
                status = doc.RootElement.Clone();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                await Task.Delay(100, CancellationToken.None);
                continue; // the orchestrator is down or restarting
            }

            last = status.GetRawText();
            var phase = status.GetProperty("phase").GetString()!;
            if (seen.Count == 0 || seen[^1] != phase)
            {
                seen.Add(phase);
            }

            if (kill is { } target and (Kill.Orchestrator or Kill.Rewards) && !killed.Contains(phase) && (status.GetProperty("held").GetBoolean() || phase == "Completed"))
            {
                if (phase == "Drained")
                {
                    // Like the flag grace of an automatic window, but exact: the audit starts once the flags are in.
                    await flagsStored.WaitAsync(ct);
                }

                if (phase != "Completed")
                {
                    await ContinueAsync(window);
                }

                var host = target == Kill.Orchestrator ? Rig.Orchestrator : Rig.Rewards!;
                await KillAsync(host, killed.Count % 3);
                await host.WaitReadyAsync(TimeSpan.FromSeconds(90));
                killed.Add(phase);
            }

            if (kill is Kill.RewardsDown or Kill.RewardsHung && phase == "Audited" && killed.Count == 0)
            {
                // Certified without rewards. The payout waits: asked again every PollMax (1 s here), the window stays
                // Audited however long rewards is away (5 s here), then completes once rewards is back.
                var until = DateTime.UtcNow.AddSeconds(5);
                while (DateTime.UtcNow < until)
                {
                    using var waiting = await OperatorAsync($"/v1/windows/{window}");
                    Assert.Equal("Audited", waiting.RootElement.GetProperty("phase").GetString());
                    await Task.Delay(250, CancellationToken.None);
                }

                if (kill == Kill.RewardsHung)
                {
                    await Rig.Rewards!.App.ResumeAsync();
                }
                else
                {
                    Rig.Rewards!.App.Start();
                }

                await Rig.Rewards.WaitReadyAsync(TimeSpan.FromSeconds(90));
                killed.Add(phase);
            }

            if (phase == "Completed" && (kill is null || killed.Contains("Completed") || kill is Kill.RewardsDown or Kill.RewardsHung))
            {
                return seen;
            }

            await Task.Delay(100, CancellationToken.None);
        }

        throw new TimeoutException($"window {window} did not complete; phases seen: {string.Join(", ", seen)}; last status: {last}");
    }

    private async Task ContinueAsync(string window)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Rig.Orchestrator.BaseUrl}/v1/windows/{window}/continue");
        request.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
        using var r = await Rig.Http.SendAsync(request);
        Assert.True(r.IsSuccessStatusCode, $"continue answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
    }

    /// <summary>SIGKILLs the app (mode 1), the sidecar (mode 2) or both (mode 0) and starts what was killed again.</summary>
    private static async Task KillAsync(ServiceHost host, int mode)
    {
        if (mode != 2)
        {
            await host.App.KillAsync();
        }

        if (mode != 1)
        {
            await host.Sidecar.KillAsync();
        }

        if (mode != 2)
        {
            host.App.Start();
        }

        if (mode != 1)
        {
            host.Sidecar.Process.Start();
        }
    }

    /// <summary>The fraud service's part, simulated: fans 0 and 1 are a device farm, fan 2 a metronome, and one vote of fan 3 is suspect.</summary>
    private async Task<Dictionary<Guid, string>> FlagBotsAsync(string window, string[] accounts)
    {
        await using var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT vote_id, account_id, candidate_id FROM votes WHERE window_id = $1 AND account_id = ANY($2)");
        cmd.Parameters.AddWithValue(window);
        cmd.Parameters.AddWithValue(accounts[..4]);
        var votes = new List<(Guid Id, string Account, string Candidate)>();
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                votes.Add((r.GetGuid(0), r.GetString(1), r.GetString(2)));
            }
        }

        var flagged = new Dictionary<Guid, string>();
        foreach (var (fan, reason) in new[] { (0, "device-farm"), (1, "device-farm"), (2, "metronome") })
        {
            var ids = votes.Where(v => v.Account == accounts[fan]).Select(v => v.Id).ToList();
            await PublishFlagsAsync(window, accounts[fan], ids, reason);
            ids.ForEach(id => flagged[id] = reason);
        }

        var single = votes.Single(v => v.Account == accounts[3] && v.Candidate == "blaze").Id;
        await PublishFlagsAsync(window, accounts[3], [single], "metronome");
        await PublishFlagsAsync(window, accounts[3], [single], "metronome"); // the fraud service may repeat itself
        flagged[single] = "metronome";
        return flagged;
    }

    private Task PublishFlagsAsync(string window, string account, List<Guid> ids, string reason) =>
        Rig.FraudClient!.PublishEventAsync(ComponentNames.VoteBus, Topics.VoteFlags, new VotesFlagged
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, VoteIds = ids, SubjectKind = "account",
            Subject = account, ReasonCodes = [reason, "velocity"], Score = 0.97, ModelVersion = "test-1",
        });

    /// <summary>The certified figures against plain SQL over the ledger, leaving out the votes this test flagged.</summary>
    private async Task<RunOutcome> CheckCertifiedAgainstTheLedgerAsync(string window, CertifiedResult certified, Dictionary<Guid, string> flagged, long accepted)
    {
        await using var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT vote_id, candidate_id FROM votes WHERE window_id = $1 AND vote_id <> ALL($2)");
        cmd.Parameters.AddWithValue(window);
        cmd.Parameters.AddWithValue(flagged.Keys.ToArray());
        var counted = new List<(Guid Id, string Candidate)>();
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                counted.Add((r.GetGuid(0), r.GetString(1)));
            }
        }

        var counts = Candidates.ToDictionary(c => c, c => (long)counted.Count(v => v.Candidate == c));
        var top = counts.Values.Max();
        Assert.Equal(counts, certified.Counts);
        Assert.Equal(counted.Count, certified.Total);
        Assert.Equal(Candidates.Where(c => counts[c] == top), certified.Winners);
        Assert.Equal(flagged.Count, certified.Excluded);
        Assert.Equal(flagged.Values.GroupBy(r => r).ToDictionary(g => g.Key, g => (long)g.Count()), certified.ExcludedByReason);
        Assert.Equal(await Rig.LedgerCountAsync(window), certified.Persisted);
        Assert.Equal(accepted, certified.Accepted);
        Assert.Equal(await Rig.IngressAcceptedAsync(window), certified.Accepted);
        Assert.True(certified.LiveMatches);
        var root = MerkleTree.Root([.. counted.OrderBy(v => v.Id, VoteIdOrder.Instance).Select(v => MerkleTree.Leaf(v.Id, v.Candidate))]);
        Assert.Equal(Convert.ToHexStringLower(root), certified.MerkleRoot);
        return new RunOutcome(Join(certified.Counts), Join(certified.ExcludedByReason), string.Join(',', certified.Winners), certified.Total, certified.Excluded, certified.Voters, "");
    }

    private async Task CheckAuditReportAsync(string window, CertifiedResult certified)
    {
        using var audit = await OperatorAsync($"/v1/windows/{window}/audit");
        var a = audit.RootElement;
        Assert.Equal(certified.Accepted, a.GetProperty("accepted").GetInt64());
        Assert.Equal(certified.Persisted, a.GetProperty("persisted").GetInt64());
        Assert.Equal(certified.Excluded, a.GetProperty("excluded").GetInt64());
        Assert.Equal(certified.Total, a.GetProperty("final").GetInt64());
    }

    /// <summary>Each counted voter: 10 points per counted vote, once, and 50 once if they voted for a winner; nobody else gets anything.</summary>
    private async Task CheckPaidOnceAsync(string window, CertifiedResult certified, string[] accounts, Dictionary<Guid, string> flagged, RunOutcome outcome)
    {
        await using var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString);
        var countedByAccount = new Dictionary<string, (long Votes, bool ForWinner)>();
        await using (var cmd = db.CreateCommand("SELECT account_id, candidate_id, count(*) FROM votes WHERE window_id = $1 AND vote_id <> ALL($2) GROUP BY 1, 2"))
        {
            cmd.Parameters.AddWithValue(window);
            cmd.Parameters.AddWithValue(flagged.Keys.ToArray());
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                var had = countedByAccount.GetValueOrDefault(r.GetString(0));
                countedByAccount[r.GetString(0)] = (had.Votes + r.GetInt64(2), had.ForWinner || certified.Winners.Contains(r.GetString(1)));
            }
        }

        var credits = new List<(string Account, string Reason, long Amount)>();
        await using (var cmd = db.CreateCommand("SELECT credit_account, reason, amount FROM ledger_entries WHERE window_id = $1 AND credit_account LIKE 'fan:%'"))
        {
            cmd.Parameters.AddWithValue(window);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                credits.Add((r.GetString(0)[4..], r.GetString(1), r.GetInt64(2)));
            }
        }

        Assert.Equal(credits.Count, credits.Select(c => (c.Account, c.Reason)).Distinct().Count());
        var expected = countedByAccount
            .SelectMany(kv => new[] { (kv.Key, PayoutPlan.CountedVotesReason, kv.Value.Votes * 10) }
                .Concat(kv.Value.ForWinner ? [(kv.Key, PayoutPlan.WinnerBonusReason, 50L)] : []))
            .OrderBy(c => c.Key, StringComparer.Ordinal).ThenBy(c => c.Item2, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, credits.OrderBy(c => c.Account, StringComparer.Ordinal).ThenBy(c => c.Reason, StringComparer.Ordinal).ToList());
        Assert.Equal(outcome.Voters, countedByAccount.Count);
        Assert.DoesNotContain(credits, c => c.Account == accounts[0] || c.Account == accounts[1] || c.Account == accounts[2]);

        var rows = await PipelineRig.LedgerRowsAsync(db);
        var report = LedgerVerifier.Verify(new LedgerKey(TestKeys.LedgerKey), rows, await PipelineRig.StoredBalancesAsync(db));
        Assert.True(report.Intact, string.Join("\n", report.Findings.Select(f => f.Message)));
        Assert.Equal(0, LedgerChain.Balances(rows).GetValueOrDefault(FanVote.Rewards.Core.Accounts.Pool(window)));
    }

    private async Task CheckEachFactPublishedOnceAsync(string window)
    {
        var facts = (await StreamEvents.ReadAsync(Rig.Redis.Address, Topics.WindowEvents)).Where(e => e.WindowId == window).ToList();
        Assert.Equal(
            [EventTypes.WindowScheduled, EventTypes.WindowOpened, EventTypes.WindowClosed, EventTypes.WindowCertified, EventTypes.WindowCompleted],
            facts.Select(f => f.Type).Distinct());
        Assert.All(facts.GroupBy(f => f.Type), g => Assert.Single(g.Select(f => f.EventId).Distinct()));
    }

    /// <summary>
    /// Proofs from results check out against the root the operator API certified (a separate source); a flagged vote has
    /// none, and a counted vote's proof passed off for it, or with its candidate changed, is rejected — by the library
    /// and by `./fanvote receipt verify`.
    /// </summary>
    private async Task CheckReceiptsAsync(string window, CertifiedResult certified, Dictionary<Guid, string> flagged)
    {
        await using var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT vote_id, candidate_id FROM votes WHERE window_id = $1 AND vote_id <> ALL($2) ORDER BY vote_id LIMIT 4");
        cmd.Parameters.AddWithValue(window);
        cmd.Parameters.AddWithValue(flagged.Keys.ToArray());
        var sample = new List<(Guid Id, string Candidate)>();
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                sample.Add((r.GetGuid(0), r.GetString(1)));
            }
        }

        InclusionProof? proof = null;
        foreach (var (id, candidate) in sample)
        {
            proof = await ReceiptAsync(window, id);
            var verdict = ReceiptVerifier.Verify(proof, certified.MerkleRoot, certified.LeafCount, id, candidate);
            Assert.True(verdict.Valid, verdict.Reason);
        }

        var excluded = flagged.Keys.First();
        using (var r = await Rig.Http.GetAsync(new Uri($"{Rig.Results.BaseUrl}/v1/windows/{window}/receipts/{excluded}")))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        var borrowed = proof! with { VoteId = excluded };
        var otherCandidate = proof with { CandidateId = Candidates.First(c => c != proof.CandidateId) };
        Assert.False(ReceiptVerifier.Verify(borrowed, certified.MerkleRoot, certified.LeafCount, excluded).Valid);
        Assert.False(ReceiptVerifier.Verify(otherCandidate, certified.MerkleRoot, certified.LeafCount).Valid);

        var dir = Directory.CreateTempSubdirectory("fv-receipt-").FullName;
        try
        {
            var certifiedFile = Path.Combine(dir, "certified.json");
            await File.WriteAllTextAsync(certifiedFile, JsonSerializer.Serialize(certified, FanVoteJson.Options));
            var (ok, okText) = await CliAsync(dir, proof, certifiedFile, proof.VoteId, proof.CandidateId);
            var (bad, badText) = await CliAsync(dir, otherCandidate, certifiedFile, null, null);
            var (stolen, stolenText) = await CliAsync(dir, borrowed, certifiedFile, excluded, null);

            // A certified result with the counts changed and its digest recomputed, under the auditor's old signature.
            var forged = certified with { Counts = certified.Counts.ToDictionary(kv => kv.Key, kv => kv.Key == proof.CandidateId ? kv.Value + 1_000 : kv.Value), Total = certified.Total + 1_000 };
            forged = forged with { Digest = CertifiedDigest.Compute(forged) };
            var forgedFile = Path.Combine(dir, "forged.json");
            await File.WriteAllTextAsync(forgedFile, JsonSerializer.Serialize(forged, FanVoteJson.Options));
            var (forgedExit, forgedText) = await CliAsync(dir, proof, forgedFile, proof.VoteId, proof.CandidateId);
            Assert.True(ok == 0, okText);
            Assert.StartsWith("OK: ", okText, StringComparison.Ordinal);
            Assert.True(bad == 1, badText);
            Assert.True(stolen == 1, stolenText);
            Assert.True(forgedExit == 1, "a recomputed digest without the auditor's signature must not verify: " + forgedText);
            Assert.Contains("signature", forgedText, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private async Task<(int Exit, string Output)> CliAsync(string dir, InclusionProof proof, string certifiedFile, Guid? voteId, string? candidate)
    {
        var proofFile = Path.Combine(dir, Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(proofFile, JsonSerializer.Serialize(proof, FanVoteJson.Options));
        // The auditor's public key as results publishes it (what a fan or a journalist fetches).
        List<string> args = ["receipt", "verify", "--proof", proofFile, "--certified", certifiedFile, "--public-key", $"{Rig.Results.BaseUrl}/v1/certification-key"];
        if (voteId is { } v)
        {
            args.AddRange(["--vote-id", v.ToString()]);
        }

        if (candidate is not null)
        {
            args.AddRange(["--candidate", candidate]);
        }

        await using var cli = ManagedProcess.Dotnet("cli", TestEnvironment.ProjectDll("FanVote.Cli"), args).Start();
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(100); // let the output readers drain
        return (exit, cli.Output);
    }

    private async Task<InclusionProof> ReceiptAsync(string window, Guid voteId)
    {
        var url = new Uri($"{Rig.Results.BaseUrl}/v1/windows/{window}/receipts/{voteId}");
        for (var attempt = 0; ; attempt++)
        {
            using var r = await Rig.Http.GetAsync(url);
            if (r.StatusCode == HttpStatusCode.OK)
            {
                return (await r.Content.ReadFromJsonAsync<InclusionProof>(FanVoteJson.Options))!;
            }

            // Results may still be storing the certified result or the chunks it was sent.
            Assert.True(attempt < 50 && r.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.NotFound, $"{url} answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
            await Task.Delay(200);
        }
    }

    private async Task<string> BalancesByFanAsync(string[] accounts)
    {
        await using var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString);
        var balances = await PipelineRig.StoredBalancesAsync(db);
        return string.Join(',', accounts.Select(a => balances.GetValueOrDefault(FanVote.Rewards.Core.Accounts.Fan(a))));
    }

    private async Task<long> FlagCountAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(Rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT count(*) FROM vote_flags WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        try
        {
            return (long)(await cmd.ExecuteScalarAsync())!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    private async Task<bool> IngressKnowsAsync(string window, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var r = await Rig.IngressHttp.SendAsync(request);
        return r.StatusCode != HttpStatusCode.NotFound;
    }

    private async Task<JsonDocument> OperatorAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Rig.Orchestrator.BaseUrl + path);
        request.Headers.Add("X-Operator-Key", PipelineRig.OperatorKey);
        using var r = await Rig.Http.SendAsync(request);
        return r.IsSuccessStatusCode
            ? JsonDocument.Parse(await r.Content.ReadAsStringAsync())
            : throw new InvalidOperationException($"{path} answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
    }

    private static string Join(IReadOnlyDictionary<string, long> d) => string.Join(',', d.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}
