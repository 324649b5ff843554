using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;
using Npgsql;

namespace FanVote.Tally.Tests;

/// <summary>
/// Tally counts only what ingress sealed, inside its window, for its candidates, and nothing after the audit: everything
/// else is quarantined with its reason, never counted. Audits only of closed windows, with the request's nonce and
/// ingress's unconfirmed votes explained.
/// </summary>
public sealed partial class TallyTests
{
    private async Task<Dictionary<string, long>> QuarantineAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT reason, count(*) FROM quarantined_votes WHERE window_id = $1 GROUP BY 1");
        cmd.Parameters.AddWithValue(window);
        var d = new Dictionary<string, long>();
        await using var r = await cmd.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await r.ReadAsync(TestContext.Current.CancellationToken))
        {
            d[r.GetString(0)] = r.GetInt64(1);
        }

        return d;
    }

    private async Task<Dictionary<string, long>> WaitQuarantineAsync(string window, long expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        Dictionary<string, long> q;
        while ((q = await QuarantineAsync(window)).Values.Sum() < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        return q;
    }

    [Fact]
    public async Task Votes_WithoutIngresssSeal_OutsideTheWindow_OrForNoCandidate_AreQuarantinedNeverCounted()
    {
        var window = NewWindow();
        var now = DateTimeOffset.UtcNow;
        await rig.ScheduleAsync(window, now.AddMinutes(-10), now.AddMinutes(10), ["c0", "c1"]);
        var good = TallyRig.Votes(window, 5, candidates: 2);
        var forged = TallyRig.Votes(window, 3, candidates: 2).Select(v => v with { CandidateId = "c1", AccountId = "someone-else" }).ToList();
        var unsealed = TallyRig.Votes(window, 2, candidates: 2).Select(v => v with { Seal = "" }).ToList();
        var early = TallyRig.Votes(window, 1, at: now.AddMinutes(-20));
        var late = TallyRig.Votes(window, 1, at: now.AddMinutes(11));
        var noCandidate = new[] { TestVotes.Sealed(window, "c9", "acc-x", "dev-x", "198.51.100.1", now, now.AddDays(-1)) };

        await rig.PublishAsync([.. forged, .. unsealed, .. early, .. late, .. noCandidate, .. good]);

        Assert.Equal(5, await rig.WaitLedgerAsync(window, 5, TimeSpan.FromSeconds(90)));
        var q = await WaitQuarantineAsync(window, 8);
        Assert.Equal(new Dictionary<string, long> { ["bad-seal"] = 5, ["before-open"] = 1, ["after-close"] = 1, ["unknown-candidate"] = 1 }, q);
        var (rows, counts, persisted) = await rig.CompareAsync(window);
        Assert.Equal(rows, counts);
        Assert.Equal(5, persisted);
        Assert.Equal(good.Select(v => v.VoteId).Order(), (await LedgerIdsAsync(window)).Order());
    }

    [Fact]
    public async Task Votes_OfAWindowTallyDoesNotKnowYet_WaitAndAreCountedOnceItIsAnnounced()
    {
        var window = NewWindow();
        var votes = TallyRig.Votes(window, 4, candidates: 2);
        await rig.Client.BulkPublishEventAsync(ComponentNames.VoteBus, Topics.Votes, votes, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(2000, TestContext.Current.CancellationToken); // delivered and retried meanwhile: nothing stored, nothing quarantined
        Assert.Equal(0, await rig.LedgerCountAsync(window));
        Assert.Empty(await QuarantineAsync(window));

        await rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1));

        Assert.Equal(4, await rig.WaitLedgerAsync(window, 4, TimeSpan.FromSeconds(120)));
    }

    [Fact]
    public async Task Audit_OfAnOpenWindow_IsRefused_AfterTheCloseItIsMade_AndLaterVotesAreQuarantined()
    {
        // Two windows, so that nothing depends on how fast this machine is: one open for an hour, one closed a moment ago
        // (its votes were accepted before the close). A close a few seconds ahead made the first audit arrive after it
        // on a loaded machine (CI c2).
        var open = "open-" + Guid.NewGuid().ToString("N")[..6];
        var window = "closed-" + Guid.NewGuid().ToString("N")[..6];
        var closes = DateTimeOffset.UtcNow.AddSeconds(-1);
        await rig.ScheduleAsync(open, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1), AuditCandidates);
        await rig.ScheduleAsync(window, DateTimeOffset.UtcNow.AddMinutes(-5), closes, AuditCandidates);
        var early = TallyRig.Votes(open, 10, candidates: AuditCandidates.Length, at: DateTimeOffset.UtcNow.AddMinutes(-1));
        var votes = TallyRig.Votes(window, 10, candidates: AuditCandidates.Length, at: closes.AddMinutes(-1));
        await rig.PublishAsync([.. early, .. votes]);
        Assert.Equal(10, await rig.WaitLedgerAsync(open, 10, TimeSpan.FromSeconds(60)));
        Assert.Equal(10, await rig.WaitLedgerAsync(window, 10, TimeSpan.FromSeconds(60)));

        await AuditAsync(open, 1, accepted: 10);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!rig.Tally.App.Output.Contains($"audit of window {open} refused: the window closes only at", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Contains($"audit of window {open} refused: the window closes only at", rig.Tally.App.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(await StreamEvents.DataAsync<WindowAudited>(rig.Redis.Address, Topics.WindowReports, EventTypes.WindowAudited), a => a.WindowId == open);

        // Two of the votes reached the broker without a 202 (ingress lists them); one list entry never landed.
        await AuditAsync(window, 2, accepted: 8, nonce: "n-2", unconfirmed: [votes[0].VoteId, votes[1].VoteId, Guid.CreateVersion7()]);
        var result = (await UntilAsync<WindowAudited>(Topics.WindowReports, EventTypes.WindowAudited, a => a.WindowId == window, 1))[0].Result;
        Assert.Equal(("n-2", 10L, 8L, 2L), (result.AuditNonce, result.Persisted, result.Accepted, result.Unconfirmed));

        var straggler = TallyRig.Votes(window, 1, candidates: 1, at: closes.AddSeconds(-2));
        await rig.PublishAsync(straggler);
        var q = await WaitQuarantineAsync(window, 1);
        Assert.Equal(new Dictionary<string, long> { ["after-audit"] = 1 }, q);
        Assert.Equal(10, await rig.LedgerCountAsync(window));
    }

    private async Task<List<Guid>> LedgerIdsAsync(string window)
    {
        await using var db = NpgsqlDataSource.Create(rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT vote_id FROM votes WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        var ids = new List<Guid>();
        await using var r = await cmd.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await r.ReadAsync(TestContext.Current.CancellationToken))
        {
            ids.Add(r.GetGuid(0));
        }

        return ids;
    }
}
