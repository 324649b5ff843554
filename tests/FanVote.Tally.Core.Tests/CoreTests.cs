using FanVote.Tally.Core;

namespace FanVote.Tally.Core.Tests;

internal sealed class FakeTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

public sealed class LiveTallyTests
{
    private static WindowCounts C(string w, long seq, long a) => new(w, seq, a, new Dictionary<string, long> { ["a"] = a });

    [Fact]
    public void Apply_OlderSeq_NeverReplacesNewer()
    {
        var live = new LiveTally(new FakeTime(DateTimeOffset.UnixEpoch));

        live.Apply([C("w", 5, 50)]);
        live.Apply([C("w", 4, 40)]);

        Assert.Equal(5, live.Get("w")!.Seq);
        Assert.Equal(50, live.Get("w")!.Total);
    }

    [Fact]
    public void TakeDue_ChangedOnce_ThenOnlyAfterRepublishInterval_AndNotWhenInactive()
    {
        var time = new FakeTime(new DateTimeOffset(2026, 11, 22, 20, 0, 0, TimeSpan.Zero));
        var live = new LiveTally(time);
        live.Apply([C("w", 1, 10)]);

        Assert.Single(live.TakeDue(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1)));
        Assert.Empty(live.TakeDue(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1)));
        time.Now += TimeSpan.FromSeconds(2);
        Assert.Single(live.TakeDue(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1)));
        time.Now += TimeSpan.FromMinutes(2);
        Assert.Empty(live.TakeDue(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void MarkUnpublished_FailedSnapshotIsDueAgain_UnlessNewerArrived()
    {
        var live = new LiveTally(new FakeTime(DateTimeOffset.UnixEpoch));
        live.Apply([C("w", 1, 10), C("v", 1, 3)]);
        var due = live.TakeDue(TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        live.Apply([C("v", 2, 4)]);

        live.MarkUnpublished(due);

        var again = live.TakeDue(TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        Assert.Equal([("v", 2L), ("w", 1L)], again.Select(c => (c.WindowId, c.Seq)).OrderBy(x => x.WindowId));
    }
}

public sealed class VoteIdsTests
{
    private static int PgOrder(Guid a, Guid b) => a.ToByteArray(bigEndian: true).AsSpan().SequenceCompareTo(b.ToByteArray(bigEndian: true));

    [Fact]
    public void Range_HoldsEveryVoteIdMintedInsideIt_AndNoneOutside()
    {
        var opens = new DateTimeOffset(2026, 11, 27, 20, 0, 0, TimeSpan.Zero);
        var closes = opens.AddMinutes(10);
        var (low, high) = VoteIds.Range(opens, closes);

        foreach (var t in new[] { opens, opens.AddMilliseconds(1), opens.AddMinutes(5), closes })
        {
            for (var i = 0; i < 50; i++)
            {
                var id = Guid.CreateVersion7(t);
                Assert.True(PgOrder(low, id) <= 0 && PgOrder(id, high) <= 0, $"{id} minted at {t:O} is outside [{low}, {high}]");
            }
        }

        Assert.True(PgOrder(Guid.CreateVersion7(opens.AddMilliseconds(-1)), low) < 0);
        Assert.True(PgOrder(Guid.CreateVersion7(closes.AddMilliseconds(1)), high) > 0);
    }
}
