namespace FanVote.Certification;

/// <summary>One counted vote as a Merkle leaf: the vote id and the candidate's index in the window's candidate list.</summary>
public readonly record struct PackedLeaf(Guid VoteId, int Candidate);

/// <summary>
/// How a certified window's leaves travel and are stored: in chunks of <see cref="ChunkSize"/> leaves (a power of
/// two, so each full chunk is a whole subtree), each leaf packed as 17 bytes (vote id big-endian, candidate index).
/// A proof is the path inside one chunk followed by the path over the chunk roots, so whoever proves needs one
/// chunk and the list of chunk roots, never the whole window.
/// </summary>
public static class ReceiptChunks
{
    public const int ChunkSize = 4096;
    public const int RecordSize = 17;

    public static int ChunkCount(long leaves) => (int)((leaves + ChunkSize - 1) / ChunkSize);

    public static byte[] Pack(IReadOnlyList<PackedLeaf> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        var bytes = new byte[leaves.Count * RecordSize];
        for (var i = 0; i < leaves.Count; i++)
        {
            var at = bytes.AsSpan(i * RecordSize, RecordSize);
            leaves[i].VoteId.TryWriteBytes(at[..16], bigEndian: true, out _);
            at[16] = checked((byte)leaves[i].Candidate);
        }

        return bytes;
    }

    public static PackedLeaf[] Unpack(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % RecordSize != 0)
        {
            throw new FormatException($"packed leaves must be a multiple of {RecordSize} bytes, got {bytes.Length}");
        }

        var leaves = new PackedLeaf[bytes.Length / RecordSize];
        for (var i = 0; i < leaves.Length; i++)
        {
            var at = bytes.Slice(i * RecordSize, RecordSize);
            leaves[i] = new PackedLeaf(new Guid(at[..16], bigEndian: true), at[16]);
        }

        return leaves;
    }

    public static List<byte[]> LeafHashes(IReadOnlyList<PackedLeaf> leaves, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(candidates);
        return [.. leaves.Select(l => MerkleTree.Leaf(l.VoteId, candidates[l.Candidate]))];
    }

    /// <summary>Siblings for the leaf at <paramref name="position"/> of chunk <paramref name="chunkIndex"/>, bottom first.</summary>
    public static List<byte[]> Path(IReadOnlyList<byte[]> chunkLeafHashes, int position, IReadOnlyList<byte[]> chunkRoots, int chunkIndex) =>
        [.. MerkleTree.Path(chunkLeafHashes, position), .. MerkleTree.Path(chunkRoots, chunkIndex)];
}
