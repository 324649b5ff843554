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
            AccountId = "acc-1", DeviceId = "dev-1", Ip = "203.0.113.7", AccountCreatedAt = T.AddDays(-3), Seal = new string('s', 43),
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
        new VoteCountsRequested { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 3 },
        new AcceptedVotesReported { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 3, Accepted = 1200, Unconfirmed = [Guid.NewGuid()], UnconfirmedTruncated = false },
        new PersistedVotesReported { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 3, Persisted = 1199 },
        new VoteCountsRequested { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 4, Watch = true },
        new AcceptedVotesReported { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 4, Accepted = 1300, Watch = true },
        new PersistedVotesReported
        {
            EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 4, Persisted = 1250, Watch = true,
            Flags = new FlagCounts(12, 2, new Dictionary<string, long> { ["device-farm"] = 10, ["metronome"] = 2 }),
        },
        new AuditRequested { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 1, Candidates = ["a", "b"], Accepted = 1200, Unconfirmed = [Guid.NewGuid()], Nonce = "n1", ClosesAt = T },
        new WindowAudited { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Result = Certified() },
        new WindowCertified { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Result = Certified() },
        new WindowCompleted { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Digest = new string('d', 64) },
        new ReceiptChunk
        {
            EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", ChunkIndex = 2, ChunkCount = 3, LeafCount = 9000,
            Candidates = ["a", "b"], Leaves = Convert.ToBase64String(new byte[34]),
        },
        new PayoutRequested
        {
            EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Seq = 2, Rules = new PayoutRules { PointsPerVote = 5, WinnerBonus = 0 },
            Winners = ["a"], Voters = 40, VoterChunks = 1, VotersDigest = new string('e', 64),
        },
        new CountedVotersRequested { EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1" },
        new CountedVotersChunk
        {
            EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", ChunkIndex = 0, ChunkCount = 1,
            Voters = [new CountedVoter { AccountId = "acc-1", Votes = new Dictionary<string, long> { ["a"] = 2, ["b"] = 1 } }],
        },
        new RewardsPaid
        {
            EventId = Guid.NewGuid(), OccurredAt = T, WindowId = "w1", Accounts = 40, Points = 2600, Entries = 61,
            LedgerHeadSeq = 61, LedgerHeadHash = new string('f', 64), VotersDigest = new string('e', 64), WithoutConsent = 4,
        },
        new ModelActivated { EventId = Guid.NewGuid(), OccurredAt = T, Version = "v2", Previous = "v1", Algorithm = "FastTree", Threshold = 0.7, Instance = "fraud-0/42" },
        new ConsentChanged { EventId = Guid.NewGuid(), OccurredAt = T, AccountId = "u_0123456789abcdef01234567", Purposes = ["counting", "fraud-prevention", "rewards"], AgeBand = "minor" },
    ];

    private static CertifiedResult Certified() => new()
    {
        WindowId = "w1", Candidates = ["a", "b"], Counts = new Dictionary<string, long> { ["a"] = 700, ["b"] = 480 }, Total = 1180,
        Winners = ["a"], Accepted = 1200, Persisted = 1200, Excluded = 20, ExcludedByReason = new Dictionary<string, long> { ["device-farm"] = 20 },
        LiveTotal = 1200, LiveMatches = true, MerkleRoot = new string('a', 64), LeafCount = 1180, ReceiptChunkSize = 4096, ReceiptChunks = 1,
        Voters = 300, VoterChunks = 1, VotersDigest = new string('e', 64), AuditedAt = T.AddMinutes(2), Unconfirmed = 0, Quarantined = 1,
        QuarantinedByReason = new Dictionary<string, long> { ["bad-seal"] = 1 }, AuditNonce = "n1", Digest = new string('b', 64), Signature = "c2ln", SigningKeyId = "0011223344556677",
    };

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

        Assert.Equal(e is VoteAccepted ? VoteAccepted.CurrentSchemaVersion : 1, doc.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(e.EventId, doc.RootElement.GetProperty("eventId").GetGuid());
        Assert.True(doc.RootElement.TryGetProperty("occurredAt", out _));
    }

    [Fact]
    public void EventIds_Stable_SamePartsSameId_OtherPartsOtherId()
    {
        Assert.Equal(EventIds.Stable("w1", EventTypes.WindowCertified), EventIds.Stable("w1", EventTypes.WindowCertified));
        Assert.NotEqual(EventIds.Stable("w1", EventTypes.WindowCertified), EventIds.Stable("w2", EventTypes.WindowCertified));
        Assert.NotEqual(EventIds.Stable("w1", "audit", "1"), EventIds.Stable("w1", "audit", "2"));
    }

    [Fact]
    public void Names_AppIdsAreTheLowercaseServiceNames() =>
        Assert.Equal(["orchestrator", "tally", "fraud", "results", "rewards", "ingress"], AppIds.All);
}
