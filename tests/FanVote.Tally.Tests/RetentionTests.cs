using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Tally.Core;
using FanVote.Testing;
using Npgsql;

namespace FanVote.Tally.Tests;

/// <summary>
/// The retention job (issue 16, minimization): once a window has been closed longer than the fraud window, its votes,
/// its device flags and the quarantine keep only IP prefixes and keyed device pseudonyms; counts do not change, and a
/// window still inside the fraud window keeps its raw fields.
/// </summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task PastTheFraudWindow_IpsBecomePrefixes_DevicesKeyedPseudonyms_CountsUnchanged_RecentWindowsUntouched()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var rig = TallyRig.With(new Dictionary<string, string?>
        {
            ["Tally__PersonalDataFor"] = "00:00:05",
            ["Tally__RetentionEvery"] = "00:00:01",
        });
        await rig.InitializeAsync();
        var now = DateTimeOffset.UtcNow;
        await rig.ScheduleAsync("old", now.AddHours(-1), now.AddSeconds(3));
        await rig.ScheduleAsync("recent", now.AddHours(-1), now.AddHours(1));
        var all = TallyRig.Votes("old", 41, at: now); // accepted before "old" closes, however long scheduling took
        var (old, late) = (all[..40], all[40]);
        var stray = TestVotes.Sealed("old", "not-a-candidate", "acc-x", "dev-stray", "203.0.113.77", now, now.AddDays(-3));
        await rig.PublishAsync([.. old, stray, .. TallyRig.Votes("recent", 10, at: now)]);
        Assert.Equal(40, await rig.WaitLedgerAsync("old", 40, TimeSpan.FromMinutes(2)));
        Assert.Equal(10, await rig.WaitLedgerAsync("recent", 10, TimeSpan.FromMinutes(2)));
        var countsBefore = (await rig.CompareAsync("old")).Counts;

        await using var db = NpgsqlDataSource.Create(rig.Db.ConnectionString);
        // (A pass may run while the last of the 40 are still landing: the next one takes those, so wait for no raw row.)
        Assert.Equal("1 window, 1 quarantined, 0 raw", await UntilAsync(db, """
            SELECT (SELECT count(*) FROM window_retention WHERE window_id = 'old') || ' window, ' ||
                   (SELECT count(*) FROM quarantined_votes WHERE minimized_at IS NOT NULL) || ' quarantined, ' ||
                   (SELECT count(*) FROM votes WHERE window_id = 'old' AND minimized_at IS NULL) || ' raw'
            """, "1 window, 1 quarantined, 0 raw", ct));
        Assert.Equal(0, await ScalarAsync<long>(db, "SELECT count(*) FROM votes WHERE window_id = 'old' AND (minimized_at IS NULL OR ip <> '198.51.100.0/24' OR device_id NOT LIKE 'dev~%')"));
        Assert.Equal(40, await ScalarAsync<long>(db, "SELECT count(DISTINCT device_id) FROM votes WHERE window_id = 'old'")); // one device, one pseudonym: still grouped
        Assert.Equal(countsBefore, (await rig.CompareAsync("old")).Counts);

        // After the window's pass: a fraud flag about a device, and a vote replayed late (a dead letter, say). The next
        // passes minimize both.
        await (await rig.AsAsync(AppIds.Fraud)).PublishEventAsync(ComponentNames.VoteBus, Topics.VoteFlags, new VotesFlagged
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = "old", VoteIds = [old[1].VoteId], SubjectKind = RiskSubjects.Device,
            Subject = "dev-1", ReasonCodes = ["device-farm"], Score = 0.99, ModelVersion = "test",
        }, ct);
        await rig.PublishAsync([late]);
        Assert.Equal("1 flag, 41 votes, 0 raw", await UntilAsync(db, """
            SELECT (SELECT count(*) FROM vote_flags WHERE minimized_at IS NOT NULL) || ' flag, ' ||
                   (SELECT count(*) FROM votes WHERE window_id = 'old') || ' votes, ' ||
                   (SELECT count(*) FROM votes WHERE window_id = 'old' AND minimized_at IS NULL) || ' raw'
            """, "1 flag, 41 votes, 0 raw", ct));

        var pseudonyms = new Pseudonyms(TestKeys.PseudonymKey);
        Assert.Equal(pseudonyms.Device("dev-1"), await ScalarAsync<string>(db, $"SELECT device_id FROM votes WHERE vote_id = '{old[1].VoteId}'"));
        Assert.Equal(pseudonyms.Device("dev-1"), await ScalarAsync<string>(db, $"SELECT subject FROM vote_flags WHERE vote_id = '{old[1].VoteId}'"));
        Assert.Equal($"{pseudonyms.Device("dev-40")} 198.51.100.0/24", await ScalarAsync<string>(db, $"SELECT device_id || ' ' || ip FROM votes WHERE vote_id = '{late.VoteId}'"));
        Assert.Equal($"{pseudonyms.Device("dev-stray")} 203.0.113.0/24", await ScalarAsync<string>(db, "SELECT device_id || ' ' || ip FROM quarantined_votes"));
        Assert.NotEqual(new Pseudonyms(new byte[32]).Device("dev-1"), pseudonyms.Device("dev-1")); // keyed: without the key, no lookup table
        Assert.Equal(0, await ScalarAsync<long>(db, "SELECT count(*) FROM votes WHERE window_id = 'recent' AND (minimized_at IS NOT NULL OR ip LIKE '%/%' OR device_id NOT LIKE 'dev-%')"));
        var (rows, counts, _) = await rig.CompareAsync("old");
        Assert.Equal(rows, counts);
        Assert.Equal(41, counts.Values.Sum());
        Assert.Equal("41 of 41", await ScalarAsync<string>(db, "SELECT votes || ' of ' || persisted FROM window_retention WHERE window_id = 'old'"));
    }

    /// <summary>
    /// A fan's erasure (issue 16), asked on `data-requests` as the orchestrator's workflow asks: every vote of the
    /// account, counted or quarantined, and device flags on them keep only the prefix and the device's pseudonym now, in
    /// a window still open; the counts and the account ids stay; other accounts are untouched; a vote of the account
    /// that lands after the erasure (in flight then) is minimized by the next retention pass; the export lists the votes.
    /// </summary>
    [Fact]
    public async Task Erasure_MinimizesTheAccountsVotesNow_AndItsLateVotesAtTheNextPass()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var rig = TallyRig.With(new Dictionary<string, string?> { ["Tally__RetentionEvery"] = "00:00:01" });
        await rig.InitializeAsync();
        var now = DateTimeOffset.UtcNow;
        var window = "erase-" + Guid.NewGuid().ToString("N")[..6];
        await rig.ScheduleAsync(window, now.AddMinutes(-1), now.AddHours(1));
        var account = "g_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var mine = Enumerable.Range(0, 3).Select(i => TestVotes.Sealed(window, "c1", account, "dev-mine", "198.51.100.7", now.AddSeconds(i), now.AddDays(-9))).ToList();
        var quarantined = TestVotes.Sealed(window, "no-such-candidate", account, "dev-mine", "198.51.100.7", now, now.AddDays(-9));
        var others = TallyRig.Votes(window, 5, at: now);
        await rig.PublishAsync([.. mine, quarantined, .. others]);
        Assert.Equal(8, await rig.WaitLedgerAsync(window, 8, TimeSpan.FromMinutes(2)));
        await (await rig.AsAsync(AppIds.Fraud)).PublishEventAsync(ComponentNames.VoteBus, Topics.VoteFlags, new VotesFlagged
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, VoteIds = [mine[0].VoteId], SubjectKind = RiskSubjects.Device,
            Subject = "dev-mine", ReasonCodes = ["device-farm"], Score = 0.99, ModelVersion = "test",
        }, ct);
        await using var db = NpgsqlDataSource.Create(rig.Db.ConnectionString);
        Assert.Equal("1", await UntilAsync(db, $"SELECT count(*)::text FROM vote_flags WHERE window_id = '{window}'", "1", ct));
        var countsBefore = (await rig.CompareAsync(window)).Counts;

        var export = await AskAsync(rig, DataRequestKinds.Export, account);
        var part = export.Data!.Value;
        Assert.Equal(mine.Select(v => v.VoteId).Order(), part.GetProperty("votes").EnumerateArray().Select(v => v.GetProperty("voteId").GetGuid()).Order());
        Assert.All(part.GetProperty("votes").EnumerateArray(), v => Assert.Equal("dev-mine", v.GetProperty("deviceId").GetString()));
        Assert.Equal(1, part.GetProperty("quarantinedTotal").GetInt64());
        Assert.Single(part.GetProperty("flags").EnumerateArray());

        var erased = await AskAsync(rig, DataRequestKinds.Erase, account);
        Assert.Contains("3 votes, 1 quarantined, 1 device flags", erased.Erased[0], StringComparison.Ordinal);
        var pseudonyms = new Pseudonyms(TestKeys.PseudonymKey);
        var expected = $"{pseudonyms.Device("dev-mine")} 198.51.100.0/24";
        Assert.Equal(0, await ScalarAsync<long>(db, $"SELECT count(*) FROM votes WHERE account_id = '{account}' AND (minimized_at IS NULL OR device_id || ' ' || ip <> '{expected}')"));
        Assert.Equal(expected, await ScalarAsync<string>(db, $"SELECT device_id || ' ' || ip FROM quarantined_votes WHERE account_id = '{account}'"));
        Assert.Equal(pseudonyms.Device("dev-mine"), await ScalarAsync<string>(db, $"SELECT subject FROM vote_flags WHERE vote_id = '{mine[0].VoteId}'"));
        Assert.Equal(0, await ScalarAsync<long>(db, $"SELECT count(*) FROM votes WHERE window_id = '{window}' AND account_id <> '{account}' AND (minimized_at IS NOT NULL OR ip LIKE '%/%')"));
        Assert.Equal(countsBefore, (await rig.CompareAsync(window)).Counts);
        Assert.Equal(3, await ScalarAsync<long>(db, $"SELECT count(*) FROM votes WHERE account_id = '{account}'"));

        // Asked again (a lost answer): nothing more to change.
        Assert.Contains("0 votes, 0 quarantined, 0 device flags", (await AskAsync(rig, DataRequestKinds.Erase, account)).Erased[0], StringComparison.Ordinal);

        // Votes of the account accepted before the erasure but landing after it, counted and quarantined: the next
        // retention pass takes them.
        var late = TestVotes.Sealed(window, "c2", account, "dev-mine", "198.51.100.7", now.AddSeconds(5), now.AddDays(-9));
        var lateQuarantined = TestVotes.Sealed(window, "not-a-candidate", account, "dev-mine", "198.51.100.7", now.AddSeconds(6), now.AddDays(-9));
        await rig.PublishAsync([late, lateQuarantined]);
        Assert.Equal(expected, await UntilAsync(db, $"SELECT coalesce((SELECT device_id || ' ' || ip FROM votes WHERE vote_id = '{late.VoteId}' AND minimized_at IS NOT NULL), 'not yet')", expected, ct));
        Assert.Equal(expected, await UntilAsync(db, $"SELECT coalesce((SELECT device_id || ' ' || ip FROM quarantined_votes WHERE vote_id = '{lateQuarantined.VoteId}' AND minimized_at IS NOT NULL), 'not yet')", expected, ct));
    }

    /// <summary>Asks tally on `data-requests` as the orchestrator does and waits for its answer on `data-reports`.</summary>
    private static async Task<DataReported> AskAsync(TallyRig rig, string kind, string account) =>
        await DataRequests.AskAsync(await rig.AsAsync(AppIds.Orchestrator), rig.Redis.Address, AppIds.Tally, kind, account);

    /// <summary>Polls <paramref name="sql"/> (one text value) until it says <paramref name="expected"/> (2 minutes at most); returns what it last said.</summary>
    private static async Task<string> UntilAsync(NpgsqlDataSource db, string sql, string expected, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        var seen = "";
        while (DateTime.UtcNow < deadline && (seen = await ScalarAsync<string>(db, sql)) != expected)
        {
            await Task.Delay(250, ct);
        }

        return seen;
    }

    [Fact]
    public void Pseudonyms_AreIdempotent_AndPrefixesFollowTheRiskSubjectRule()
    {
        using var p = new Pseudonyms(TestKeys.PseudonymKey);

        Assert.Equal(p.Device("d-1"), p.Device(p.Device("d-1")));
        Assert.NotEqual(p.Device("d-1"), p.Device("d-2"));
        Assert.StartsWith(Pseudonyms.DevicePrefix, p.Device("d-1"), StringComparison.Ordinal);
        Assert.Equal("198.51.100.0/24", Pseudonyms.Ip("198.51.100.9"));
        Assert.Equal("198.51.100.0/24", Pseudonyms.Ip("198.51.100.0/24"));
        Assert.Equal("2001:db8:1::/48", Pseudonyms.Ip("2001:db8:1:2::5"));
        Assert.Equal("unknown", Pseudonyms.Ip("not an address"));
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource db, string sql)
    {
        await using var cmd = db.CreateCommand(sql);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
