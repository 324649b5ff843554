using FanVote.Certification;
using FanVote.Contracts.Events;

namespace FanVote.Results.Core;

/// <summary>What results keeps about one stored receipt chunk: its size, first and last vote id, and its subtree root (hex).</summary>
public sealed record ChunkMeta(int Count, Guid First, Guid Last, string Root);

/// <summary>
/// Everything needed to prove a vote of a certified window except the one chunk that holds it: the chunks' vote-id
/// ranges and subtree roots (a few KB per million votes). Built once per window from the stored chunk metas and
/// checked against the certified root, so a corrupted or missing chunk is found before any proof is served.
/// </summary>
public sealed class ReceiptDirectory
{
    private readonly CertifiedResult _certified;
    private readonly IReadOnlyList<ChunkMeta> _chunks;
    private readonly List<byte[]> _roots;

    private ReceiptDirectory(CertifiedResult certified, IReadOnlyList<ChunkMeta> chunks)
    {
        _certified = certified;
        _chunks = chunks;
        _roots = [.. chunks.Select(c => Convert.FromHexString(c.Root))];
    }

    /// <summary>The directory, or why there is none: chunks still missing, or chunks that do not add up to the certified root.</summary>
    public static (ReceiptDirectory? Directory, string? Problem) Build(CertifiedResult certified, IReadOnlyList<ChunkMeta?> metas)
    {
        ArgumentNullException.ThrowIfNull(certified);
        ArgumentNullException.ThrowIfNull(metas);
        var missing = metas.Count(m => m is null);
        if (missing > 0 || metas.Count != certified.ReceiptChunks)
        {
            return (null, $"{missing} of {certified.ReceiptChunks} receipt chunks have not arrived yet");
        }

        var chunks = metas.Select(m => m!).ToList();
        var root = Convert.ToHexStringLower(MerkleTree.Root([.. chunks.Select(c => Convert.FromHexString(c.Root))]));
        if (chunks.Sum(c => (long)c.Count) != certified.LeafCount || !string.Equals(root, certified.MerkleRoot, StringComparison.OrdinalIgnoreCase))
        {
            return (null, "the stored receipt chunks do not add up to the certified Merkle root");
        }

        return (new ReceiptDirectory(certified, chunks), null);
    }

    /// <summary>What results stores for an arriving chunk.</summary>
    public static ChunkMeta Describe(IReadOnlyList<PackedLeaf> leaves, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count == 0)
        {
            throw new ArgumentException("a receipt chunk has at least one leaf", nameof(leaves));
        }

        return new ChunkMeta(leaves.Count, leaves[0].VoteId, leaves[^1].VoteId, Convert.ToHexStringLower(MerkleTree.Root(ReceiptChunks.LeafHashes(leaves, candidates))));
    }

    /// <summary>The chunk whose vote-id range holds <paramref name="voteId"/>, or -1.</summary>
    public int Locate(Guid voteId)
    {
        int lo = 0, hi = _chunks.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (VoteIdOrder.Instance.Compare(voteId, _chunks[mid].First) < 0)
            {
                hi = mid - 1;
            }
            else if (VoteIdOrder.Instance.Compare(voteId, _chunks[mid].Last) > 0)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }

    /// <summary>The inclusion proof of <paramref name="voteId"/> from its chunk's leaves; null when the chunk does not hold it.</summary>
    public InclusionProof? Prove(int chunkIndex, IReadOnlyList<PackedLeaf> chunkLeaves, Guid voteId)
    {
        ArgumentNullException.ThrowIfNull(chunkLeaves);
        var hashes = ReceiptChunks.LeafHashes(chunkLeaves, _certified.Candidates);
        if (!string.Equals(Convert.ToHexStringLower(MerkleTree.Root(hashes)), _chunks[chunkIndex].Root, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"receipt chunk {chunkIndex} of window {_certified.WindowId} does not match its recorded root");
        }

        var position = BinarySearch(chunkLeaves, voteId);
        if (position < 0)
        {
            return null;
        }

        var siblings = ReceiptChunks.Path(hashes, position, _roots, chunkIndex);
        return new InclusionProof(
            MerkleTree.Format, _certified.WindowId, voteId, _certified.Candidates[chunkLeaves[position].Candidate],
            ((long)chunkIndex * ReceiptChunks.ChunkSize) + position, _certified.LeafCount,
            [.. siblings.Select(Convert.ToHexStringLower)], _certified.MerkleRoot, _certified.Digest);
    }

    private static int BinarySearch(IReadOnlyList<PackedLeaf> leaves, Guid voteId)
    {
        int lo = 0, hi = leaves.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            var c = VoteIdOrder.Instance.Compare(leaves[mid].VoteId, voteId);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }
}
