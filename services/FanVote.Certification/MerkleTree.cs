using System.Security.Cryptography;
using System.Text;

namespace FanVote.Certification;

/// <summary>
/// The Merkle tree over a certified window's counted votes ("fanvote-merkle-v1"):
/// <list type="bullet">
/// <item>leaf = SHA-256(0x00 ‖ vote id as 16 bytes in RFC 4122 big-endian order ‖ UTF-8 candidate id);</item>
/// <item>node = SHA-256(0x01 ‖ left ‖ right) (the prefixes keep a leaf from passing for a node);</item>
/// <item>leaves in ascending order of the vote id bytes (PostgreSQL's uuid order);</item>
/// <item>level by level, neighbours are paired from the left; a last node without a partner is carried up unchanged
/// (no duplication, so no two leaf lists share a root). This is the RFC 6962 tree shape;</item>
/// <item>the root of no leaves is SHA-256 of nothing.</item>
/// </list>
/// Because aligned blocks of 2^k leaves are whole subtrees, the tree can be proven from one block plus the roots of
/// the others (<see cref="ReceiptChunks"/>).
/// </summary>
public static class MerkleTree
{
    public const string Format = "fanvote-merkle-v1";
    public const int HashSize = 32;

    public static byte[] EmptyRoot { get; } = SHA256.HashData([]);

    public static byte[] Leaf(Guid voteId, string candidateId)
    {
        ArgumentNullException.ThrowIfNull(candidateId);
        var candidate = Encoding.UTF8.GetBytes(candidateId);
        var buffer = new byte[1 + 16 + candidate.Length];
        buffer[0] = 0x00;
        voteId.TryWriteBytes(buffer.AsSpan(1, 16), bigEndian: true, out _);
        candidate.CopyTo(buffer.AsSpan(17));
        return SHA256.HashData(buffer);
    }

    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * HashSize)];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashSize)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>Root over already-hashed leaves (or over the roots of aligned, equal, power-of-two blocks).</summary>
    public static byte[] Root(IReadOnlyList<byte[]> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0)
        {
            return EmptyRoot;
        }

        var level = nodes;
        while (level.Count > 1)
        {
            level = Up(level);
        }

        return level[0];
    }

    /// <summary>The sibling hashes from <paramref name="index"/> up to the root, bottom first; levels where the node is carried up add none.</summary>
    public static List<byte[]> Path(IReadOnlyList<byte[]> nodes, int index)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, nodes.Count);
        var path = new List<byte[]>();
        var level = nodes;
        while (level.Count > 1)
        {
            if (index % 2 == 1)
            {
                path.Add(level[index - 1]);
            }
            else if (index + 1 < level.Count)
            {
                path.Add(level[index + 1]);
            }

            level = Up(level);
            index /= 2;
        }

        return path;
    }

    /// <summary>
    /// The root that <paramref name="leaf"/> at <paramref name="index"/> of <paramref name="count"/> leaves leads to
    /// with <paramref name="siblings"/>; null when the path does not have exactly the siblings such a position needs.
    /// </summary>
    public static byte[]? RootFromPath(ReadOnlySpan<byte> leaf, long index, long count, IReadOnlyList<byte[]> siblings)
    {
        ArgumentNullException.ThrowIfNull(siblings);
        if (count < 1 || index < 0 || index >= count || leaf.Length != HashSize || siblings.Any(s => s is not { Length: HashSize }))
        {
            return null;
        }

        var hash = leaf.ToArray();
        var used = 0;
        while (count > 1)
        {
            if (index % 2 == 1)
            {
                if (used == siblings.Count)
                {
                    return null;
                }

                hash = Node(siblings[used++], hash);
            }
            else if (index + 1 < count)
            {
                if (used == siblings.Count)
                {
                    return null;
                }

                hash = Node(hash, siblings[used++]);
            }

            index /= 2;
            count = (count + 1) / 2;
        }

        return used == siblings.Count ? hash : null;
    }

    private static List<byte[]> Up(IReadOnlyList<byte[]> level)
    {
        var next = new List<byte[]>((level.Count + 1) / 2);
        for (var i = 0; i < level.Count; i += 2)
        {
            next.Add(i + 1 < level.Count ? Node(level[i], level[i + 1]) : level[i]);
        }

        return next;
    }
}

/// <summary>
/// The same root as <see cref="MerkleTree.Root"/>, computed while leaves stream in, in O(log n) memory: it keeps the
/// roots of the perfect subtrees seen so far and folds them right to left at the end (RFC 6962's shape).
/// </summary>
public sealed class MerkleRootBuilder
{
    private readonly List<(int Height, byte[] Hash)> _stack = [];

    public long Count { get; private set; }

    public void Add(byte[] leafHash)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        var node = (Height: 0, Hash: leafHash);
        while (_stack.Count > 0 && _stack[^1].Height == node.Height)
        {
            node = (node.Height + 1, MerkleTree.Node(_stack[^1].Hash, node.Hash));
            _stack.RemoveAt(_stack.Count - 1);
        }

        _stack.Add(node);
        Count++;
    }

    public byte[] Root()
    {
        if (_stack.Count == 0)
        {
            return MerkleTree.EmptyRoot;
        }

        var hash = _stack[^1].Hash;
        for (var i = _stack.Count - 2; i >= 0; i--)
        {
            hash = MerkleTree.Node(_stack[i].Hash, hash);
        }

        return hash;
    }
}

/// <summary>Vote ids in leaf order: by their 16 RFC 4122 (big-endian) bytes, as PostgreSQL orders uuid.</summary>
public sealed class VoteIdOrder : IComparer<Guid>
{
    public static VoteIdOrder Instance { get; } = new();

    public int Compare(Guid x, Guid y)
    {
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        x.TryWriteBytes(a, bigEndian: true, out _);
        y.TryWriteBytes(b, bigEndian: true, out _);
        return a.SequenceCompareTo(b);
    }
}
