using FanVote.Certification;
using FanVote.Contracts.Events;
using FanVote.Results.Core;

namespace FanVote.Results.Core.Tests;

public sealed class ReceiptDirectoryTests
{
    private static readonly string[] Candidates = ["aurora", "blaze", "comet"];

    /// <summary>9,000 counted votes: two full chunks and a partial one, as tally would publish them.</summary>
    private static (CertifiedResult Certified, List<PackedLeaf[]> Chunks) Window()
    {
        var leaves = Enumerable.Range(0, 9_000).Select(i => new PackedLeaf(Guid.CreateVersion7(), i % 3)).OrderBy(l => l.VoteId, VoteIdOrder.Instance).ToArray();
        var root = MerkleTree.Root(ReceiptChunks.LeafHashes(leaves, Candidates));
        var certified = new CertifiedResult
        {
            WindowId = "w", Candidates = Candidates, Counts = new Dictionary<string, long> { ["aurora"] = 3000, ["blaze"] = 3000, ["comet"] = 3000 }, Total = 9000,
            Winners = Candidates, Accepted = 9000, Persisted = 9000, Excluded = 0, ExcludedByReason = new Dictionary<string, long>(), LiveTotal = 9000, LiveMatches = true,
            MerkleRoot = Convert.ToHexStringLower(root), LeafCount = 9000, ReceiptChunkSize = ReceiptChunks.ChunkSize, ReceiptChunks = 3,
            Voters = 10, VoterChunks = 1, VotersDigest = new string('e', 64), AuditedAt = DateTimeOffset.UnixEpoch, Unconfirmed = 0, Quarantined = 0,
            QuarantinedByReason = new Dictionary<string, long>(), AuditNonce = "n", Digest = new string('d', 64),
        };
        return (certified, [.. leaves.Chunk(ReceiptChunks.ChunkSize)]);
    }

    [Fact]
    public void Prove_VotesFromEachChunk_VerifyAgainstTheCertifiedRoot()
    {
        var (certified, chunks) = Window();
        var (directory, problem) = ReceiptDirectory.Build(certified, [.. chunks.Select(c => ReceiptDirectory.Describe(c, Candidates))]);
        Assert.Null(problem);

        foreach (var (chunk, position) in new[] { (0, 0), (0, 4095), (1, 17), (2, 0), (2, 807) })
        {
            var vote = chunks[chunk][position];
            Assert.Equal(chunk, directory!.Locate(vote.VoteId));
            var proof = directory.Prove(chunk, chunks[chunk], vote.VoteId)!;
            var verdict = ReceiptVerifier.Verify(proof, certified.MerkleRoot, certified.LeafCount, vote.VoteId, Candidates[vote.Candidate]);
            Assert.True(verdict.Valid, verdict.Reason);
            Assert.Equal((chunk * ReceiptChunks.ChunkSize) + position, proof.LeafIndex);
        }
    }

    [Fact]
    public void Prove_VoteThatIsNotCounted_HasNoProof()
    {
        var (certified, chunks) = Window();
        var (directory, _) = ReceiptDirectory.Build(certified, [.. chunks.Select(c => ReceiptDirectory.Describe(c, Candidates))]);
        var stranger = Guid.CreateVersion7();

        var chunk = directory!.Locate(stranger);

        Assert.True(chunk < 0 || directory.Prove(chunk, chunks[chunk], stranger) is null);
    }

    [Fact]
    public void Build_MissingOrForeignChunk_IsRefusedWithTheReason()
    {
        var (certified, chunks) = Window();
        var metas = chunks.Select(c => (ChunkMeta?)ReceiptDirectory.Describe(c, Candidates)).ToList();

        var missing = ReceiptDirectory.Build(certified, [metas[0], null, metas[2]]);
        var swapped = ReceiptDirectory.Build(certified, [metas[1], metas[0], metas[2]]);

        Assert.Null(missing.Directory);
        Assert.Contains("1 of 3", missing.Problem, StringComparison.Ordinal);
        Assert.Null(swapped.Directory);
        Assert.Contains("do not add up", swapped.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Prove_ChunkAlteredInStorage_Throws()
    {
        var (certified, chunks) = Window();
        var (directory, _) = ReceiptDirectory.Build(certified, [.. chunks.Select(c => ReceiptDirectory.Describe(c, Candidates))]);
        var altered = chunks[1].ToArray();
        altered[5] = altered[5] with { Candidate = (altered[5].Candidate + 1) % 3 };

        Assert.Throws<InvalidDataException>(() => directory!.Prove(1, altered, altered[5].VoteId));
    }
}
