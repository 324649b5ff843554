using System.Text;
using FanVote.Contracts;
using FanVote.Tally.Core;

namespace FanVote.Tally.Core.Tests;

internal sealed class FakeTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

public sealed class VoteBatchTests
{
    private static IReadOnlyList<DeliveredVote> Decode(string json) => VoteDelivery.Decode(Encoding.UTF8.GetBytes(json), "tally");

    private const string Good = """
        {"entryId":"e1","event":{"id":"x","type":"com.dapr.event.sent","data":{"eventId":"8d4c3c52-0f1d-4c65-9f0a-5f2d9b7e3a11","occurredAt":"2026-11-22T20:00:01.5+00:00","schemaVersion":1,
        "voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b","windowId":"w1","candidateId":"a","accountId":"acc","deviceId":"dev","ip":"203.0.113.9","accountCreatedAt":"2026-11-01T00:00:00Z"}}}
        """;

    [Fact]
    public void Decode_NoAccountCreatedAt_TheAccountIsAsOldAsTheVote()
    {
        var e = Assert.Single(Decode("""
            {"entries":[{"entryId":"e3","event":{"data":{"voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b","occurredAt":"2026-11-22T20:00:00Z","windowId":"w","candidateId":"a","accountId":"x","deviceId":"d"}}}]}
            """));

        Assert.Equal(e.Vote!.AcceptedAt, e.Vote.AccountCreatedAt);
    }

    [Fact]
    public void Decode_GoodEntry_YieldsTheVote()
    {
        var e = Assert.Single(Decode($$"""{"entries":[{{Good}}]}"""));

        Assert.Equal("e1", e.EntryId);
        Assert.Null(e.Error);
        Assert.Equal(Guid.Parse("5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b"), e.Vote!.VoteId);
        Assert.Equal("w1", e.Vote.WindowId);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 20, 0, 1, 500, TimeSpan.Zero), e.Vote.AcceptedAt);
    }

    [Theory]
    [InlineData("""{"entryId":"e2","event":{"data":{"occurredAt":"2026-11-22T20:00:00Z","windowId":"w","candidateId":"a","accountId":"x","deviceId":"d"}}}""", "voteId")]
    [InlineData("""{"entryId":"e2","event":{"data":{"schemaVersion":2,"voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b"}}}""", "schema version 2")]
    [InlineData("""{"entryId":"e2","event":"not an object"}""", "no CloudEvent")]
    [InlineData("""{"entryId":"e2","event":{"data":{"voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b","occurredAt":"2026-11-22T20:00:00Z","windowId":"","candidateId":"a","accountId":"x","deviceId":"d"}}}""", "windowId")]
    public void Decode_BadEntry_IsReportedNotGuessed_OthersStillDecode(string bad, string reason)
    {
        var entries = Decode($$"""{"entries":[{{bad}},{{Good}}]}""");

        Assert.Null(entries[0].Vote);
        Assert.Contains(reason, entries[0].Error, StringComparison.Ordinal);
        Assert.NotNull(entries[1].Vote);
    }

    [Theory]
    [InlineData("""{"entryId":"e2","event":{"data":{"voteId":7,"occurredAt":"2026-11-22T20:00:00Z","windowId":"w","candidateId":"a","accountId":"x","deviceId":"d"}}}""", "voteId")]
    [InlineData("""{"entryId":"e2","event":{"data":{"voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b","occurredAt":"yesterday","windowId":"w","candidateId":"a","accountId":"x","deviceId":"d"}}}""", "occurredAt")]
    [InlineData("""{"entryId":"e2","event":{"data":{"voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b","occurredAt":"2026-11-22T20:00:00Z","windowId":"w","candidateId":["a"],"accountId":"x","deviceId":"d"}}}""", "candidateId")]
    [InlineData("""{"entryId":"e2","event":{"data_base64":"AAAA"}}""", "no CloudEvent")]
    [InlineData("""{"entryId":"e2","event":{"data":{"voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b","occurredAt":"2026-11-22T20:00:00Z","windowId":"w","candidateId":"a","accountId":"x","deviceId":"d","accountCreatedAt":"last week"}}}""", "accountCreatedAt")]
    public void Decode_FieldOfTheWrongShape_IsReported(string bad, string reason)
    {
        var entries = Decode($$"""{"entries":[{{bad}},{{Good}}]}""");

        Assert.Null(entries[0].Vote);
        Assert.Contains(reason, entries[0].Error, StringComparison.Ordinal);
        Assert.Equal("e1", entries[1].EntryId);
        Assert.NotNull(entries[1].Vote);
    }

    [Fact]
    public void Decode_UnknownPropertiesAnywhere_AreSkipped()
    {
        var withExtras = Good
            .Replace("\"entryId\":\"e1\"", "\"x\":{\"entryId\":\"no\",\"deep\":[{\"event\":1}]},\"entryId\":\"e1\"", StringComparison.Ordinal)
            .Replace("\"windowId\":\"w1\"", "\"extra\":{\"windowId\":\"no\"},\"windowId\":\"w1\"", StringComparison.Ordinal);
        var e = Assert.Single(Decode($$"""{"id":"b","metadata":{"k":"v"},"entries":[{{withExtras}}],"topic":"votes"}"""));

        Assert.Equal("e1", e.EntryId);
        Assert.Equal("w1", e.Vote!.WindowId);
        Assert.Equal("203.0.113.9", e.Vote.Ip);
    }

    [Theory]
    [InlineData("""{"data":1}""")]
    [InlineData("""{"entries":{}}""")]
    [InlineData("""[]""")]
    [InlineData("""{"entries":[""")]
    public void Decode_NotABulkBody_Throws(string body) =>
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => Decode(body));
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
