using System.Diagnostics;
using System.Text;
using FanVote.Contracts;
using FanVote.Testing;

namespace FanVote.Tally.Tests;

public sealed partial class TallyTests(TallyRig rig, ITestOutputHelper output) : IClassFixture<TallyRig>
{
    private static string NewWindow() => "w-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Votes_PublishedInBulk_EachStoredOnce_CountsEqualRows()
    {
        var window = NewWindow();
        var votes = TallyRig.Votes(window, 5000);
        var sw = Stopwatch.StartNew();

        await rig.PublishAsync(votes);
        var stored = await rig.WaitLedgerAsync(window, votes.Count, TimeSpan.FromSeconds(60));
        output.WriteLine($"5000 votes published and stored in {sw.Elapsed.TotalSeconds:F2} s");

        Assert.Equal(votes.Count, stored);
        var (rows, counts, persisted) = await rig.CompareAsync(window);
        Assert.Equal(rows, counts);
        Assert.Equal(votes.Count, persisted);
        Assert.Equal(votes.GroupBy(v => v.CandidateId).ToDictionary(g => g.Key, g => (long)g.Count()), rows);
    }

    [Fact]
    public async Task Votes_RedeliveredOrRepublished_ChangeNothing()
    {
        var window = NewWindow();
        var votes = TallyRig.Votes(window, 600);
        await rig.PublishAsync(votes);
        await rig.WaitLedgerAsync(window, votes.Count, TimeSpan.FromSeconds(30));

        await rig.PublishAsync(votes);
        await rig.PublishAsync([.. votes.Take(100)], batch: 7);
        var marker = TallyRig.Votes(window, 1);
        await rig.PublishAsync(marker);
        await rig.WaitLedgerAsync(window, votes.Count + 1, TimeSpan.FromSeconds(30));
        await Task.Delay(500, TestContext.Current.CancellationToken);

        Assert.Equal(votes.Count + 1, await rig.LedgerCountAsync(window));
        var (rows, counts, persisted) = await rig.CompareAsync(window);
        Assert.Equal(rows, counts);
        Assert.Equal(votes.Count + 1, persisted);
    }

    [Fact]
    public async Task Snapshots_TallyUpdated_SeqGrows_LastOneMatchesTheLedger()
    {
        var window = NewWindow();
        var votes = TallyRig.Votes(window, 1500, candidates: 2);
        foreach (var (part, i) in votes.Chunk(500).Select((p, i) => (p, i)))
        {
            await rig.PublishAsync(part);

            // Each part's snapshot before the next part: several snapshots however slow the machine (with a fixed pause,
            // a starved tally took all three parts into one snapshot; CI l2).
            var shown = (i + 1) * 500;
            var wait = DateTime.UtcNow.AddSeconds(60);
            while ((await rig.SnapshotsAsync(window)).Select(u => u.Total).DefaultIfEmpty(0).Max() < shown)
            {
                Assert.True(DateTime.UtcNow < wait, $"no snapshot of window {window} showed {shown} votes within 60 s");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        await rig.WaitLedgerAsync(window, votes.Count, TimeSpan.FromSeconds(30));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<FanVote.Contracts.Events.TallyUpdated> snaps;
        do
        {
            await Task.Delay(300, TestContext.Current.CancellationToken);
            snaps = await rig.SnapshotsAsync(window);
        }
        while ((snaps.Count == 0 || snaps[^1].Total != votes.Count) && DateTime.UtcNow < deadline);

        Assert.True(snaps.Count >= 2, $"expected several snapshots, got {snaps.Count}");
        for (var i = 1; i < snaps.Count; i++)
        {
            Assert.True(snaps[i].Seq >= snaps[i - 1].Seq, "seq went backwards");
            Assert.True(snaps[i].Total >= snaps[i - 1].Total, "total went backwards");
        }

        var last = snaps[^1];
        Assert.Equal(votes.Count, last.Total);
        Assert.Equal(votes.Count, last.Counts.Values.Sum());
        Assert.Equal(votes.Count(v => v.CandidateId == "c0"), last.Counts["c0"]);
    }

    [Fact]
    public async Task Votes_Undecodable_GoToDeadLetterTopic_LedgerUntouched()
    {
        var window = NewWindow();
        var bad = Encoding.UTF8.GetBytes($$"""{"eventId":"{{Guid.NewGuid()}}","occurredAt":"2026-11-22T20:00:00Z","windowId":"{{window}}","candidateId":"a"}""");

        await rig.Client.PublishByteEventAsync(ComponentNames.VoteBus, Topics.Votes, bad, "application/json", cancellationToken: TestContext.Current.CancellationToken);
        await rig.PublishAsync(TallyRig.Votes(window, 3));
        await rig.WaitLedgerAsync(window, 3, TimeSpan.FromSeconds(30));

        await using var mux = await TestRedis.ConnectAsync(rig.Redis.Address);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var dead = 0;
        while (dead == 0 && DateTime.UtcNow < deadline)
        {
            dead = (await mux.GetDatabase().StreamRangeAsync(Topics.VotesDeadLetter)).Count(e => ((string)e["data"]!).Contains(window, StringComparison.Ordinal));
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Equal(1, dead);
        Assert.Equal(3, await rig.LedgerCountAsync(window));
    }
}

/// <summary>Zero loss when the tally and its sidecar are SIGKILLed mid-burst and restarted.</summary>
public sealed class TallyKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TallyRig _rig = new();

    public ValueTask InitializeAsync() => _rig.InitializeAsync();

    public ValueTask DisposeAsync() => _rig.DisposeAsync();

    [Fact]
    public async Task Burst_TallyKilledMidwayAndRestarted_EveryVoteStoredOnce()
    {
        var window = "kill-" + Guid.NewGuid().ToString("N")[..8];
        var votes = TallyRig.Votes(window, 20_000, candidates: 4);
        var publishing = _rig.PublishAsync(votes);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await _rig.LedgerCountAsync(window) < 4000 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        var atKill = await _rig.LedgerCountAsync(window);
        await _rig.Tally.KillAsync();
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        await _rig.Tally.StartAsync();
        await publishing;
        var sw = Stopwatch.StartNew();
        var stored = await _rig.WaitLedgerAsync(window, votes.Count, TimeSpan.FromSeconds(120));
        output.WriteLine($"killed at {atKill} stored rows; all {stored} stored {sw.Elapsed.TotalSeconds:F1} s after the publisher finished");

        Assert.True(atKill > 0 && atKill < votes.Count, $"the kill should land mid-burst (was at {atKill})");
        Assert.Equal(votes.Count, stored);
        var (rows, counts, persisted) = await _rig.CompareAsync(window);
        Assert.Equal(rows, counts);
        Assert.Equal(votes.Count, persisted);
    }
}
