using FanVote.Certification;

namespace FanVote.Tally.Core.Tests;

public sealed class WindowAuditTests
{
    private static readonly DateTimeOffset T = new DateTimeOffset(2026, 11, 27, 20, 0, 0, TimeSpan.Zero).AddTicks(1234);

    private static LedgerSnapshot Snapshot(Dictionary<string, long> ledger, Dictionary<string, long> live, Dictionary<string, long> counted, Dictionary<string, long> excluded, long voters = 7) =>
        new(ledger, live, counted, excluded, new string('a', 64), counted.Values.Sum(), voters, new string('e', 64), 0, new Dictionary<string, long>());

    [Fact]
    public void Certify_CandidateWithoutVotes_CountsZero_TieMakesTwoWinners_DigestMatches()
    {
        var r = WindowAudit.Certify("w", ["a", "b", "c"], 12, "nonce-1",
            Snapshot(new() { ["a"] = 6, ["b"] = 6 }, new() { ["a"] = 6, ["b"] = 6 }, new() { ["a"] = 5, ["b"] = 5 }, new() { ["metronome"] = 2 }), T);

        Assert.Equal(new Dictionary<string, long> { ["a"] = 5, ["b"] = 5, ["c"] = 0 }, r.Counts);
        Assert.Equal(["a", "b"], r.Winners);
        Assert.Equal((10L, 12L, 2L, 12L), (r.Total, r.Persisted, r.Excluded, r.Accepted));
        Assert.True(r.LiveMatches);
        Assert.True(CertifiedDigest.Matches(r));
        Assert.Equal("nonce-1", r.AuditNonce);
        Assert.Equal(T.ToUnixTimeMilliseconds(), r.AuditedAt.ToUnixTimeMilliseconds());
        Assert.Equal(0, r.AuditedAt.Ticks % TimeSpan.TicksPerMillisecond);
    }

    [Fact]
    public void Certify_LiveTallyDiffersFromTheLedger_SaysSo()
    {
        var r = WindowAudit.Certify("w", ["a", "b"], 4, "nonce-1", Snapshot(new() { ["a"] = 4 }, new() { ["a"] = 3, ["b"] = 1 }, new() { ["a"] = 4 }, []), T);

        Assert.False(r.LiveMatches);
        Assert.Equal(4, r.LiveTotal);
    }

    [Fact]
    public void Certify_NoVotes_NoWinners_EmptyTreeAndNoChunks()
    {
        var r = WindowAudit.Certify("w", ["a", "b"], 0, "nonce-1", Snapshot([], [], [], [], voters: 0), T);

        Assert.Empty(r.Winners);
        Assert.Equal((0, 0), (r.ReceiptChunks, r.VoterChunks));
    }

    [Fact]
    public void Certify_ChunkCounts_FollowTheSizes()
    {
        var r = WindowAudit.Certify("w", ["a"], 9000, "nonce-1", Snapshot(new() { ["a"] = 9000 }, new() { ["a"] = 9000 }, new() { ["a"] = 9000 }, [], voters: 4001), T);

        Assert.Equal(3, r.ReceiptChunks);
        Assert.Equal(3, r.VoterChunks);
    }

    [Fact]
    public void Certify_UnconfirmedAndQuarantined_AreInTheResultAndTheDigest()
    {
        var snapshot = Snapshot(new() { ["a"] = 5 }, new() { ["a"] = 5 }, new() { ["a"] = 5 }, []) with
        {
            UnconfirmedInLedger = 1, QuarantinedByReason = new Dictionary<string, long> { ["bad-seal"] = 3, ["after-close"] = 1 },
        };
        var r = WindowAudit.Certify("w", ["a"], 4, "n", snapshot, T);

        Assert.Equal((1L, 4L), (r.Unconfirmed, r.Quarantined));
        Assert.True(CertifiedDigest.Matches(r));
        Assert.False(CertifiedDigest.Matches(r with { Quarantined = 0 }));
        Assert.False(CertifiedDigest.Matches(r with { AuditNonce = "other" }));
    }
}
