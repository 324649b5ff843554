using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Contracts.Tests;

public sealed class EventRoundTripTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 22, 20, 0, 0, TimeSpan.Zero);

    public static TheoryData<FanVoteEvent> Events() =>
    [
        new VoteAccepted
        {
            EventId = Guid.NewGuid(), OccurredAt = T, VoteId = Guid.NewGuid(), WindowId = "w1", CandidateId = "a",
            AccountId = "acc-1", DeviceId = "dev-1", Ip = "203.0.113.7", AccountCreatedAt = T.AddDays(-3),
        },
        new TallyUpdated
        {
            EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 42, Total = 7,
            Counts = new Dictionary<string, long> { ["a"] = 4, ["b"] = 3 },
        },
        new RiskVerdictIssued
        {
            EventId = Guid.NewGuid(), OccurredAt = T, SubjectKind = "device", Subject = "dev-9", Score = 0.97,
            ReasonCodes = ["device-farm"], Action = RiskAction.Challenge, ModelVersion = "2026-11-22.1", ExpiresAt = T.AddMinutes(30),
        },
        new WindowScheduled
        {
            EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Title = "Final", Candidates = ["a", "b"],
            OpensAt = T, ClosesAt = T.AddHours(1), VotesPerAccount = 10,
        },
        new WindowOpened { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Candidates = ["a", "b"], ClosesAt = T.AddHours(1) },
        new WindowClosed { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", ClosedAt = T.AddHours(1) },
        new RewardRequested { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", AccountId = "acc-1", Reason = "counted-vote", Points = 10 },
        new VotesFlagged
        {
            EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", VoteIds = [Guid.NewGuid(), Guid.NewGuid()], SubjectKind = "device",
            Subject = "dev-9", ReasonCodes = ["device-farm"], Score = 0.99, ModelVersion = "2026-11-27.1",
        },
    ];

    [Theory]
    [MemberData(nameof(Events))]
    public void Event_JsonRoundTrip_KeepsEveryValueIncludingTheSendersEventId(FanVoteEvent e)
    {
        var json = JsonSerializer.Serialize(e, e.GetType(), FanVoteJson.Options);
        var back = (FanVoteEvent)JsonSerializer.Deserialize(json, e.GetType(), FanVoteJson.Options)!;

        Assert.Equal(e.EventId, back.EventId);
        Assert.Equal(JsonSerializer.Serialize(e, e.GetType(), FanVoteJson.Options), JsonSerializer.Serialize(back, back.GetType(), FanVoteJson.Options));
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void Event_Json_IsCamelCaseAndCarriesSchemaVersion(FanVoteEvent e)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(e, e.GetType(), FanVoteJson.Options));

        Assert.Equal(1, doc.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(e.EventId, doc.RootElement.GetProperty("eventId").GetGuid());
        Assert.True(doc.RootElement.TryGetProperty("occurredAt", out _));
    }

    [Fact]
    public void Names_AppIdsAreTheLowercaseServiceNames() =>
        Assert.Equal(["orchestrator", "tally", "fraud", "results", "rewards", "ingress"], AppIds.All);
}
