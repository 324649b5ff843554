using System.Security.Cryptography;

namespace FanVote.Certification;

/// <summary>
/// What `GET /v1/windows/{windowId}/receipts/{voteId}` returns: enough to recompute the Merkle root from one's own
/// vote. <see cref="MerkleRoot"/> and <see cref="Digest"/> are what the server claims; a verifier compares the
/// recomputed root with the root of the certified result it got elsewhere, never with these.
/// </summary>
public sealed record InclusionProof(
    string Format,
    string WindowId,
    Guid VoteId,
    string CandidateId,
    long LeafIndex,
    long LeafCount,
    IReadOnlyList<string> Siblings,
    string MerkleRoot,
    string Digest);

/// <summary>The verdict on a proof: <see cref="Valid"/>, and a sentence saying why not.</summary>
public sealed record ProofVerdict(bool Valid, string Reason);

/// <summary>Checks an inclusion proof against a trusted root (README "Verify a receipt" spells out the same steps).</summary>
public static class ReceiptVerifier
{
    public static ProofVerdict Verify(InclusionProof proof, string trustedRoot, long trustedLeafCount, Guid? myVoteId = null, string? myCandidateId = null)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(trustedRoot);
        if (proof.Format != MerkleTree.Format)
        {
            return new(false, $"unknown proof format '{proof.Format}' (this verifier knows {MerkleTree.Format})");
        }

        if (myVoteId is { } v && v != proof.VoteId)
        {
            return new(false, $"the proof is for vote {proof.VoteId}, not for your vote {v}");
        }

        if (myCandidateId is not null && myCandidateId != proof.CandidateId)
        {
            return new(false, $"the proof counts the vote for '{proof.CandidateId}', but you voted for '{myCandidateId}'");
        }

        if (proof.LeafCount != trustedLeafCount)
        {
            return new(false, $"the proof is for a tree of {proof.LeafCount} votes, the certified result has {trustedLeafCount}");
        }

        byte[] expected;
        List<byte[]> siblings;
        try
        {
            expected = Convert.FromHexString(trustedRoot);
            siblings = [.. proof.Siblings.Select(Convert.FromHexString)];
        }
        catch (FormatException)
        {
            return new(false, "the root or a sibling hash is not hex");
        }

        var root = MerkleTree.RootFromPath(MerkleTree.Leaf(proof.VoteId, proof.CandidateId), proof.LeafIndex, proof.LeafCount, siblings);
        if (root is null)
        {
            return new(false, $"the proof does not have the sibling hashes that position {proof.LeafIndex} of {proof.LeafCount} needs");
        }

        return CryptographicOperations.FixedTimeEquals(root, expected)
            ? new(true, $"vote {proof.VoteId} for '{proof.CandidateId}' is leaf {proof.LeafIndex} of {proof.LeafCount} under root {trustedRoot.ToLowerInvariant()}")
            : new(false, $"the proof leads to root {Convert.ToHexStringLower(root)}, not to the certified root {trustedRoot.ToLowerInvariant()}");
    }
}
