using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;
using Npgsql;

namespace FanVote.Tally.Tests;

/// <summary>Fraud flags, the audit, receipt and voter chunks, and the drain's count requests, through the sidecar.</summary>
public sealed partial class TallyTests
{
    private static readonly string[] AuditCandidates = ["c0", "c1", "c2", "c3"];

    private async Task PublishTypedAsync<T>(string asApp, string topic, string type, T data) =>
        await (await rig.AsAsync(asApp)).PublishEventAsync(ComponentNames.VoteBus, topic, data, new Dictionary<string, string> { [EventTypes.MetadataKey] = type }, TestContext.Current.CancellationToken);

    private async Task FlagAsync(string window, IEnumerable<Guid> ids, string reason, string subject = "dev-farm-1") =>
        await (await rig.AsAsync(AppIds.Fraud)).PublishEventAsync(ComponentNames.VoteBus, Topics.VoteFlags, new VotesFlagged
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, VoteIds = [.. ids], SubjectKind = "device",
            Subject = subject, ReasonCodes = [reason], Score = 0.99, ModelVersion = "test",
        }, TestContext.Current.CancellationToken);

    private Task AuditAsync(string window, long seq, long accepted = 300, string nonce = "nonce-1", IReadOnlyList<Guid>? unconfirmed = null) =>
        PublishTypedAsync(AppIds.Orchestrator, Topics.WindowRequests, EventTypes.AuditRequested, new AuditRequested
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, Seq = seq, Candidates = AuditCandidates, Accepted = accepted,
            Unconfirmed = unconfirmed ?? [], Nonce = nonce, ClosesAt = DateTimeOffset.UtcNow,
        });

    /// <summary>A window that closed a minute ago, and sealed votes accepted while it was open.</summary>
    private async Task<(string Window, List<VoteAccepted> Votes)> ClosedWindowWithVotesAsync(string prefix, int n)
    {
        var window = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        var now = DateTimeOffset.UtcNow;
        await rig.ScheduleAsync(window, now.AddHours(-2), now.AddMinutes(-1), AuditCandidates);
        var votes = TallyRig.Votes(window, n, candidates: AuditCandidates.Length, at: now.AddMinutes(-30));
        await rig.PublishAsync(votes);
        Assert.Equal(n, await rig.WaitLedgerAsync(window, n, TimeSpan.FromSeconds(90)));
        return (window, votes);
    }

    private async Task<List<T>> UntilAsync<T>(string topic, string? type, Func<T, bool> mine, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var found = (await StreamEvents.DataAsync<T>(rig.Redis.Address, topic, type)).Where(mine).ToList();
            if (found.Count >= count)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {count} messages on {topic}");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    private async Task<long> FlagsAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT count(*) FROM vote_flags WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        try
        {
            return (long)(await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    [Fact]
    public async Task Audit_FlaggedVotesExcluded_ResultCertifiedOnceWithReceiptsAndVoters_LateFlagsChangeNothing()
    {
        var (window, votes) = await ClosedWindowWithVotesAsync("audit", 300);
        var farm = votes.Take(20).Select(v => v.VoteId).ToList();
        var metronome = votes.Skip(10).Take(15).Select(v => v.VoteId).ToList(); // 10 already flagged as farm: a vote keeps its first flag
        await FlagAsync(window, farm, "device-farm");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await FlagsAsync(window) < 20 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        await FlagAsync(window, metronome, "metronome");
        await FlagAsync(window, metronome, "metronome");
        while (await FlagsAsync(window) < 25 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        await AuditAsync(window, 1);
        var first = (await UntilAsync<WindowAudited>(Topics.WindowReports, EventTypes.WindowAudited, a => a.WindowId == window, 1))[0].Result;

        var flagged = farm.Concat(metronome).ToHashSet();
        var counted = votes.Where(v => !flagged.Contains(v.VoteId)).OrderBy(v => v.VoteId, VoteIdOrder.Instance).ToList();
        Assert.True(CertifiedDigest.Matches(first));
        using (var auditor = AuditSignature.LoadPublicKey(TestKeys.AuditPublicKey))
        {
            Assert.Null(AuditSignature.Problem(first, auditor));
        }

        Assert.Equal(("nonce-1", 0L, 0L), (first.AuditNonce, first.Unconfirmed, first.Quarantined));
        Assert.Equal(AuditCandidates.ToDictionary(c => c, c => (long)counted.Count(v => v.CandidateId == c)), first.Counts);
        Assert.Equal(25, first.Excluded);
        Assert.Equal(new Dictionary<string, long> { ["device-farm"] = 20, ["metronome"] = 5 }, first.ExcludedByReason);
        Assert.Equal((300, 275, 300, true), (first.Persisted, first.Total, first.LiveTotal, first.LiveMatches));
        Assert.Equal(Convert.ToHexStringLower(MerkleTree.Root([.. counted.Select(v => MerkleTree.Leaf(v.VoteId, v.CandidateId))])), first.MerkleRoot);

        var chunk = Assert.Single(await UntilAsync<ReceiptChunk>(Topics.ReceiptChunks, null, c => c.WindowId == window, 1));
        Assert.Equal(counted.Select(v => (v.VoteId, v.CandidateId)), ReceiptChunks.Unpack(Convert.FromBase64String(chunk.Leaves)).Select(l => (l.VoteId, chunk.Candidates[l.Candidate])));

        await FlagAsync(window, [counted[0].VoteId], "late-review");
        while (await FlagsAsync(window) < 26 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        await AuditAsync(window, 2);
        var answers = await UntilAsync<WindowAudited>(Topics.WindowReports, EventTypes.WindowAudited, a => a.WindowId == window, 2);
        Assert.Single(answers.Select(a => a.EventId).Distinct());
        Assert.Equal(first.Digest, answers[1].Result.Digest);
        Assert.Single(await StreamEvents.DataAsync<ReceiptChunk>(rig.Redis.Address, Topics.ReceiptChunks), c => c.WindowId == window);

        await (await rig.AsAsync(AppIds.Rewards)).PublishEventAsync(ComponentNames.VoteBus, Topics.VoterRequests,
            new CountedVotersRequested { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window }, TestContext.Current.CancellationToken);
        var voters = (await UntilAsync<CountedVotersChunk>(Topics.CountedVoters, null, c => c.WindowId == window, first.VoterChunks)).SelectMany(c => c.Voters).ToList();
        Assert.Equal(first.Voters, voters.Count);
        Assert.Equal(first.VotersDigest, VotersDigest.Of(voters));
        Assert.Equal(275, voters.Sum(v => v.Votes.Values.Sum()));
    }

    [Fact]
    public async Task Counts_Requested_AnsweredWithThePersistedCountAndTheRequestsSeq()
    {
        var window = "count-" + Guid.NewGuid().ToString("N")[..6];
        await rig.PublishAsync(TallyRig.Votes(window, 40));
        Assert.Equal(40, await rig.WaitLedgerAsync(window, 40, TimeSpan.FromSeconds(60)));

        await PublishTypedAsync(AppIds.Orchestrator, Topics.WindowRequests, EventTypes.VoteCountsRequested, new VoteCountsRequested { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, Seq = 7 });

        var report = Assert.Single(await UntilAsync<PersistedVotesReported>(Topics.WindowReports, EventTypes.PersistedVotesReported, r => r.WindowId == window, 1));
        Assert.Equal((7L, 40L), (report.Seq, report.Persisted));
    }

    [Fact]
    public async Task Counts_RequestedByAnOperatorsWatch_CarryTheWindowsFlagsByReasonAndSubject_TheDrainsDoNot()
    {
        var window = "watch-" + Guid.NewGuid().ToString("N")[..6];
        var votes = TallyRig.Votes(window, 40);
        await rig.PublishAsync(votes);
        Assert.Equal(40, await rig.WaitLedgerAsync(window, 40, TimeSpan.FromSeconds(60)));
        var ids = votes.Select(v => v.VoteId).ToList();
        await FlagAsync(window, ids.Take(6), "device-farm", subject: "dev-farm-1");
        await FlagAsync(window, ids.Skip(6).Take(3), "device-farm", subject: "dev-farm-2");
        // The first reason a vote is flagged for is the one it keeps: ids[0]'s device-farm flag must be recorded before
        // its metronome flag is sent (separate publishes may be delivered in either order on a loaded machine).
        var recorded = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await FlagsAsync(window) < 9 && DateTime.UtcNow < recorded)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Equal(9, await FlagsAsync(window));
        await FlagAsync(window, ids.Skip(9).Take(2).Append(ids[0]), "metronome", subject: "acct-9"); // ids[0] was flagged already: still one vote
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await FlagsAsync(window) < 11 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Equal(11, await FlagsAsync(window));

        await PublishTypedAsync(AppIds.Orchestrator, Topics.WindowRequests, EventTypes.VoteCountsRequested, new VoteCountsRequested { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, Seq = 8 });
        await PublishTypedAsync(AppIds.Orchestrator, Topics.WindowRequests, EventTypes.VoteCountsRequested, new VoteCountsRequested { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, Seq = 9, Watch = true });

        var reports = await UntilAsync<PersistedVotesReported>(Topics.WindowReports, EventTypes.PersistedVotesReported, r => r.WindowId == window, 2);
        var drain = Assert.Single(reports, r => r.Seq == 8);
        var watch = Assert.Single(reports, r => r.Seq == 9);
        Assert.Equal((false, 40L, 0L), (drain.Watch, drain.Persisted, drain.Flags.Votes));
        Assert.Equal((true, 40L, 11L, 3L), (watch.Watch, watch.Persisted, watch.Flags.Votes, watch.Flags.Subjects));
        Assert.Equal(new Dictionary<string, long> { ["device-farm"] = 9, ["metronome"] = 2 }, watch.Flags.ByReason);
    }

    [Fact]
    public async Task Subscriptions_VoteFlagsHasADeadLetterTopic_WindowRequestsRouteOnTheType()
    {
        var subs = await rig.Tally.Internal.GetFromJsonAsync<JsonElement>(new Uri("/dapr/subscribe", UriKind.Relative), TestContext.Current.CancellationToken);

        var flags = subs.EnumerateArray().Single(s => s.GetProperty("topic").GetString() == Topics.VoteFlags);
        var requests = subs.EnumerateArray().Single(s => s.GetProperty("topic").GetString() == Topics.WindowRequests);
        Assert.Equal(Topics.VoteFlagsDeadLetter, flags.GetProperty("deadLetterTopic").GetString());
        var matches = requests.GetProperty("routes").GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("match").GetString()).ToList();
        Assert.Contains($"event.type == \"{EventTypes.AuditRequested}\"", matches);
        Assert.Contains($"event.type == \"{EventTypes.VoteCountsRequested}\"", matches);
    }
}
