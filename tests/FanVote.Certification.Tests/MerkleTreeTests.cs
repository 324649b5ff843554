using FanVote.Contracts.Events;

namespace FanVote.Certification.Tests;

public sealed class MerkleTreeTests
{
    private static List<(Guid Id, string Candidate)> Votes(int n, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ =>
        {
            var b = new byte[16];
            rng.NextBytes(b);
            return (new Guid(b), "c" + rng.Next(3));
        }).OrderBy(v => v.Item1, VoteIdOrder.Instance)];
    }

    private static List<byte[]> Leaves(IEnumerable<(Guid Id, string Candidate)> votes) => [.. votes.Select(v => MerkleTree.Leaf(v.Id, v.Candidate))];

    [Fact]
    public void Root_ThreeKnownVotes_MatchesTheVectorComputedWithPythonHashlib()
    {
        var leaves = Leaves([(Guid.Parse("00000000-0000-0000-0000-000000000001"), "a"), (Guid.Parse("00000000-0000-0000-0000-000000000002"), "b"), (Guid.Parse("00000000-0000-0000-0000-000000000003"), "a")]);

        Assert.Equal("4109101971ba30bd181abbf5a6c3d119f05179a65c5c0f6d8b6e1d9eaf71c085", Convert.ToHexStringLower(leaves[2]));
        Assert.Equal("020dbab17752b017394ff74610b21011a6cefdbc6338de1b556aae7a73d6be3e", Convert.ToHexStringLower(MerkleTree.Root(leaves)));
    }

    [Fact]
    public void RootBuilder_StreamingLeaves_EqualsLevelByLevelRootForEverySizeUpTo70()
    {
        for (var n = 0; n <= 70; n++)
        {
            var leaves = Leaves(Votes(n, n));
            var builder = new MerkleRootBuilder();
            leaves.ForEach(builder.Add);

            Assert.Equal(MerkleTree.Root(leaves), builder.Root());
        }
    }

    [Fact]
    public void Path_EveryLeafOfEverySizeUpTo40_LeadsBackToTheRoot()
    {
        for (var n = 1; n <= 40; n++)
        {
            var leaves = Leaves(Votes(n, 100 + n));
            var root = MerkleTree.Root(leaves);
            for (var i = 0; i < n; i++)
            {
                Assert.Equal(root, MerkleTree.RootFromPath(leaves[i], i, n, MerkleTree.Path(leaves, i)));
            }
        }
    }

    [Fact]
    public void RootFromPath_WrongIndexOrMissingOrExtraSibling_DoesNotLeadToTheRoot()
    {
        var leaves = Leaves(Votes(13, 7));
        var root = MerkleTree.Root(leaves);
        var path = MerkleTree.Path(leaves, 5);

        Assert.NotEqual(root, MerkleTree.RootFromPath(leaves[5], 4, 13, path));
        Assert.Null(MerkleTree.RootFromPath(leaves[5], 5, 13, path[..^1]));
        Assert.Null(MerkleTree.RootFromPath(leaves[5], 5, 13, [.. path, leaves[0]]));
        Assert.Null(MerkleTree.RootFromPath(leaves[5], 13, 13, path));
    }

    [Fact]
    public void ChunkedPath_PowerOfTwoBlocks_ComposesToTheSameRootAndProofs()
    {
        // Blocks of 4 stand in for ReceiptChunks.ChunkSize; 23 leaves leave a partial last block.
        var leaves = Leaves(Votes(23, 11));
        var chunks = leaves.Chunk(4).Select(c => c.ToList()).ToList();
        var chunkRoots = chunks.Select(c => MerkleTree.Root(c)).ToList();
        var root = MerkleTree.Root(leaves);

        Assert.Equal(root, MerkleTree.Root(chunkRoots));
        for (var i = 0; i < leaves.Count; i++)
        {
            var path = ReceiptChunks.Path(chunks[i / 4], i % 4, chunkRoots, i / 4);
            Assert.Equal(root, MerkleTree.RootFromPath(leaves[i], i, leaves.Count, path));
        }
    }

    [Fact]
    public void Pack_Unpack_RoundTripsVoteIdsAndCandidates_InSeventeenBytesEach()
    {
        var leaves = Votes(9, 3).Select((v, i) => new PackedLeaf(v.Id, i % 3)).ToList();

        var packed = ReceiptChunks.Pack(leaves);

        Assert.Equal(9 * 17, packed.Length);
        Assert.Equal(leaves, ReceiptChunks.Unpack(packed));
        Assert.Throws<FormatException>(() => ReceiptChunks.Unpack(packed.AsSpan(1)));
    }

    [Fact]
    public void VoteIdOrder_SortsByBigEndianBytes_NotByDotNetsMixedEndianLayout()
    {
        // .NET's Guid.CompareTo orders the first three groups as little-endian integers; PostgreSQL compares bytes.
        var a = Guid.Parse("01000000-0000-0000-0000-000000000000");
        var b = Guid.Parse("00ff0000-0000-0000-0000-000000000001");

        Assert.True(VoteIdOrder.Instance.Compare(b, a) < 0);
        Assert.True(VoteIdOrder.Instance.Compare(a, b) > 0);
        Assert.Equal(0, VoteIdOrder.Instance.Compare(a, a));
    }
}

public sealed class ReceiptVerifierTests
{
    private static readonly string[] Candidates = ["aurora", "blaze"];

    private static (List<(Guid Id, string Candidate)> Counted, string Root) Tree(int n)
    {
        var votes = Enumerable.Range(0, n).Select(i => (Guid.CreateVersion7(), Candidates[i % 2])).OrderBy(v => v.Item1, VoteIdOrder.Instance).ToList();
        return (votes, Convert.ToHexStringLower(MerkleTree.Root([.. votes.Select(v => MerkleTree.Leaf(v.Item1, v.Item2))])));
    }

    private static InclusionProof Proof(List<(Guid Id, string Candidate)> votes, int i, string root)
    {
        var leaves = votes.Select(v => MerkleTree.Leaf(v.Id, v.Candidate)).ToList();
        return new InclusionProof(MerkleTree.Format, "w", votes[i].Id, votes[i].Candidate, i, votes.Count,
            [.. MerkleTree.Path(leaves, i).Select(Convert.ToHexStringLower)], root, "");
    }

    [Fact]
    public void Verify_ProofOfEachCountedVote_IsValid()
    {
        var (votes, root) = Tree(37);

        for (var i = 0; i < votes.Count; i++)
        {
            var verdict = ReceiptVerifier.Verify(Proof(votes, i, root), root, votes.Count, votes[i].Id, votes[i].Candidate);
            Assert.True(verdict.Valid, verdict.Reason);
        }
    }

    [Fact]
    public void Verify_ExcludedVoteWithABorrowedProof_IsRejected()
    {
        var (votes, root) = Tree(20);
        var excluded = Guid.CreateVersion7();

        var verdict = ReceiptVerifier.Verify(Proof(votes, 4, root) with { VoteId = excluded }, root, votes.Count, excluded);

        Assert.False(verdict.Valid);
        Assert.Contains("not to the certified root", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AlteredCandidateSiblingOrIndex_IsRejected()
    {
        var (votes, root) = Tree(20);
        var proof = Proof(votes, 9, root);
        var otherCandidate = proof.CandidateId == "aurora" ? "blaze" : "aurora";
        var flipped = proof.Siblings.ToList();
        flipped[1] = flipped[1][..^1] + (flipped[1][^1] == '0' ? '1' : '0');

        Assert.False(ReceiptVerifier.Verify(proof with { CandidateId = otherCandidate }, root, 20).Valid);
        Assert.False(ReceiptVerifier.Verify(proof with { Siblings = flipped }, root, 20).Valid);
        Assert.False(ReceiptVerifier.Verify(proof with { LeafIndex = 8 }, root, 20).Valid);
        Assert.False(ReceiptVerifier.Verify(proof, root, 21).Valid);
    }

    [Fact]
    public void Verify_SomeoneElsesValidProof_IsRejectedForMyVoteAndMyCandidate()
    {
        var (votes, root) = Tree(8);
        var theirs = Proof(votes, 2, root);
        var mine = votes[3];

        Assert.False(ReceiptVerifier.Verify(theirs, root, 8, mine.Id).Valid);
        Assert.False(ReceiptVerifier.Verify(theirs, root, 8, theirs.VoteId, theirs.CandidateId == "aurora" ? "blaze" : "aurora").Valid);
    }
}

public sealed class DigestTests
{
    private static CertifiedResult Result() => new()
    {
        WindowId = "final", Candidates = ["a", "b"], Counts = new Dictionary<string, long> { ["a"] = 10, ["b"] = 7 }, Total = 17,
        Winners = ["a"], Accepted = 20, Persisted = 20, Excluded = 3, ExcludedByReason = new Dictionary<string, long> { ["metronome"] = 1, ["device farm"] = 2 },
        LiveTotal = 20, LiveMatches = true, MerkleRoot = new string('a', 64), LeafCount = 17, ReceiptChunkSize = 4096, ReceiptChunks = 1,
        Voters = 9, VoterChunks = 1, VotersDigest = new string('e', 64), AuditedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_790_000_000_123),
        Unconfirmed = 0, Quarantined = 2, QuarantinedByReason = new Dictionary<string, long> { ["bad-seal"] = 2 }, AuditNonce = "n1", Digest = "",
    };

    [Fact]
    public void Canonical_ListsEveryFieldOnItsOwnLine_ReasonsEncodedAndSorted()
    {
        var text = CertifiedDigest.Canonical(Result());

        Assert.StartsWith("format:fanvote-certified-result-v2\nwindow:final\ncandidates:a,b\ncount:a:10\ncount:b:7\ntotal:17\n", text, StringComparison.Ordinal);
        Assert.Contains("excluded-by-reason:device%20farm:2\nexcluded-by-reason:metronome:1\n", text, StringComparison.Ordinal);
        Assert.Contains("audited-at:1790000000123\nunconfirmed:0\nquarantined:2\nquarantined-by-reason:bad-seal:2\n", text, StringComparison.Ordinal);
        Assert.EndsWith("audit-nonce:n1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Digest_AnyChangedField_ChangesIt_AndMatchesSeesIt()
    {
        var r = Result();
        r = r with { Digest = CertifiedDigest.Compute(r) };

        Assert.True(CertifiedDigest.Matches(r));
        Assert.False(CertifiedDigest.Matches(r with { Counts = new Dictionary<string, long> { ["a"] = 11, ["b"] = 7 } }));
        Assert.False(CertifiedDigest.Matches(r with { Excluded = 2 }));
        Assert.False(CertifiedDigest.Matches(r with { MerkleRoot = new string('b', 64) }));
        Assert.False(CertifiedDigest.Matches(r with { ExcludedByReason = new Dictionary<string, long> { ["metronome"] = 3 } }));
        Assert.False(CertifiedDigest.Matches(r with { Winners = ["b"] }));
    }

    [Fact]
    public void VotersDigest_SameLinesSameDigest_AnyDifferentCountDiffers()
    {
        static string Of(long n)
        {
            using var d = new VotersDigest();
            d.Add("acc-1", "a", 2);
            d.Add("acc-2", "b", n);
            return d.Finish();
        }

        Assert.Equal(Of(1), Of(1));
        Assert.NotEqual(Of(1), Of(2));
    }
}
