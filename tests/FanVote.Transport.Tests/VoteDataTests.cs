using System.Text;

namespace FanVote.Transport.Tests;

public sealed class VoteDataTests
{
    private static List<BulkEntry<AcceptedVote>> Decode(string json) => VoteData.Decode(Encoding.UTF8.GetBytes(json));

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

        Assert.Equal(e.Value!.AcceptedAt, e.Value.AccountCreatedAt);
    }

    [Fact]
    public void Decode_GoodEntry_YieldsTheVote()
    {
        var e = Assert.Single(Decode($$"""{"entries":[{{Good}}]}"""));

        Assert.Equal("e1", e.EntryId);
        Assert.Null(e.Error);
        Assert.Equal(Guid.Parse("5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b"), e.Value!.VoteId);
        Assert.Equal("w1", e.Value.WindowId);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 20, 0, 1, 500, TimeSpan.Zero), e.Value.AcceptedAt);
    }

    [Theory]
    [InlineData("""{"entryId":"e2","event":{"data":{"occurredAt":"2026-11-22T20:00:00Z","windowId":"w","candidateId":"a","accountId":"x","deviceId":"d"}}}""", "voteId")]
    [InlineData("""{"entryId":"e2","event":{"data":{"schemaVersion":3,"voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b"}}}""", "schema version 3")]
    [InlineData("""{"entryId":"e2","event":"not an object"}""", "no CloudEvent")]
    [InlineData("""{"entryId":"e2","event":{"data":{"voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5b","occurredAt":"2026-11-22T20:00:00Z","windowId":"","candidateId":"a","accountId":"x","deviceId":"d"}}}""", "windowId")]
    public void Decode_BadEntry_IsReportedNotGuessed_OthersStillDecode(string bad, string reason)
    {
        var entries = Decode($$"""{"entries":[{{bad}},{{Good}}]}""");

        Assert.Null(entries[0].Value);
        Assert.Contains(reason, entries[0].Error, StringComparison.Ordinal);
        Assert.NotNull(entries[1].Value);
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

        Assert.Null(entries[0].Value);
        Assert.Contains(reason, entries[0].Error, StringComparison.Ordinal);
        Assert.Equal("e1", entries[1].EntryId);
        Assert.NotNull(entries[1].Value);
    }

    [Fact]
    public void Decode_UnknownPropertiesAnywhere_AreSkipped()
    {
        var withExtras = Good
            .Replace("\"entryId\":\"e1\"", "\"x\":{\"entryId\":\"no\",\"deep\":[{\"event\":1}]},\"entryId\":\"e1\"", StringComparison.Ordinal)
            .Replace("\"windowId\":\"w1\"", "\"extra\":{\"windowId\":\"no\"},\"windowId\":\"w1\"", StringComparison.Ordinal);
        var e = Assert.Single(Decode($$"""{"id":"b","metadata":{"k":"v"},"entries":[{{withExtras}}],"topic":"votes"}"""));

        Assert.Equal("e1", e.EntryId);
        Assert.Equal("w1", e.Value!.WindowId);
        Assert.Equal("203.0.113.9", e.Value.Ip);
    }

    [Theory]
    [InlineData("""{"data":1}""")]
    [InlineData("""{"entries":{}}""")]
    [InlineData("""[]""")]
    [InlineData("""{"entries":[""")]
    public void Decode_NotABulkBody_Throws(string body) =>
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => Decode(body));

    [Fact]
    public void Decode_SealedVote_CarriesItsSeal_AnUnsealedOneNone()
    {
        var sealedVote = Good.Replace("\"schemaVersion\":1,", "\"schemaVersion\":2,\"seal\":\"abc\",", StringComparison.Ordinal);
        var entries = Decode($$"""{"entries":[{{sealedVote}},{{Good}}]}""");

        Assert.Equal("abc", entries[0].Value!.Seal);
        Assert.Null(entries[1].Value!.Seal);
    }

    [Fact]
    public void EncodeStatuses_WritesEachEntrysStatus()
    {
        var json = Encoding.UTF8.GetString(BulkDelivery.EncodeStatuses([("a", BulkStatus.Success), ("b", BulkStatus.Retry), ("c", BulkStatus.Drop)]));

        Assert.Equal("""{"statuses":[{"entryId":"a","status":"SUCCESS"},{"entryId":"b","status":"RETRY"},{"entryId":"c","status":"DROP"}]}""", json);
    }

    [Fact]
    public void Decode_TraceParent_ReadOnlyWhenAsked()
    {
        const string Traced = """
            {"entryId":"e2","event":{"id":"y","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","traceid":"x","data":{"eventId":"8d4c3c52-0f1d-4c65-9f0a-5f2d9b7e3a12","occurredAt":"2026-11-22T20:00:01.5+00:00","schemaVersion":1,
            "voteId":"5b1f8a6e-3c2d-4e7f-8a9b-0c1d2e3f4a5c","windowId":"w1","candidateId":"a","accountId":"acc","deviceId":"dev","ip":"203.0.113.9"}}}
            """;
        var body = Encoding.UTF8.GetBytes($$"""{"entries":[{{Traced}},{{Good}}]}""");

        var asked = BulkDelivery.Decode<AcceptedVote, VoteData>(body, readTraceParent: true);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", asked[0].TraceParent);
        Assert.Null(asked[1].TraceParent);
        Assert.All(asked, e => Assert.NotNull(e.Value));

        var notAsked = BulkDelivery.Decode<AcceptedVote, VoteData>(body);
        Assert.All(notAsked, e => Assert.Null(e.TraceParent));
        Assert.Equal(asked.Select(e => e.Value!.VoteId), notAsked.Select(e => e.Value!.VoteId));
    }
}
