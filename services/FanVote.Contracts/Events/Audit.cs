namespace FanVote.Contracts.Events;

/// <summary>
/// The orchestrator asks tally to audit a drained window (topic `window-requests`). Tally answers with
/// <see cref="WindowAudited"/>; the first audit of a window is stored and every later request gets the same answer.
/// </summary>
public sealed record AuditRequested : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The orchestrator's attempt number.</summary>
    public required long Seq { get; init; }

    /// <summary>Candidate ids in display order (a candidate without votes is certified with 0).</summary>
    public required IReadOnlyList<string> Candidates { get; init; }

    /// <summary>Votes ingress accepted, as the drain established it (reported beside the recount).</summary>
    public required long Accepted { get; init; }

    /// <summary>
    /// Votes ingress sealed and published whose fan got no 202 (the broker's acknowledgement came too late): such a vote
    /// may or may not be in the ledger. The audit counts how many are, and those alone may make persisted exceed accepted.
    /// </summary>
    public required IReadOnlyList<Guid> Unconfirmed { get; init; }

    /// <summary>
    /// A fresh random value for this audit; tally puts it into the certified result it signs, and the orchestrator
    /// accepts an audit only with the nonce of its own request.
    /// </summary>
    public required string Nonce { get; init; }

    /// <summary>The window's close: tally refuses to audit before it.</summary>
    public required DateTimeOffset ClosesAt { get; init; }
}

/// <summary>Tally's answer to <see cref="AuditRequested"/> (topic `window-reports`).</summary>
public sealed record WindowAudited : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The result the audit certifies, with its digest.</summary>
    public required CertifiedResult Result { get; init; }
}

/// <summary>
/// The orchestrator accepted the audit: this is the window's certified result (topic `window-events`). Results
/// serves it and its receipts; fans check inclusion proofs against <see cref="CertifiedResult.MerkleRoot"/>.
/// </summary>
public sealed record WindowCertified : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The certified result.</summary>
    public required CertifiedResult Result { get; init; }
}

/// <summary>
/// A window's certified result and the audit figures behind it. <see cref="Digest"/> is SHA-256 over the canonical
/// text form of every other field (FanVote.Certification's CertifiedDigest documents it), so any change shows.
/// </summary>
public sealed record CertifiedResult
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>Candidate ids in display order.</summary>
    public required IReadOnlyList<string> Candidates { get; init; }

    /// <summary>Final counts per candidate: ledger votes minus the excluded ones.</summary>
    public required IReadOnlyDictionary<string, long> Counts { get; init; }

    /// <summary>Sum of <see cref="Counts"/>.</summary>
    public required long Total { get; init; }

    /// <summary>Candidates with the highest final count (more than one on a tie; none when nobody voted).</summary>
    public required IReadOnlyList<string> Winners { get; init; }

    /// <summary>Votes ingress accepted (answered 202), from the drain.</summary>
    public required long Accepted { get; init; }

    /// <summary>Votes in the ledger for the window when it was audited.</summary>
    public required long Persisted { get; init; }

    /// <summary>Ledger votes left out of the count (fraud-flagged).</summary>
    public required long Excluded { get; init; }

    /// <summary>Excluded votes by the first reason code of their flag.</summary>
    public required IReadOnlyDictionary<string, long> ExcludedByReason { get; init; }

    /// <summary>The live tally's total (kept incrementally while votes arrived).</summary>
    public required long LiveTotal { get; init; }

    /// <summary>True when the live tally equals the recount of the ledger, candidate by candidate (before exclusions).</summary>
    public required bool LiveMatches { get; init; }

    /// <summary>Hex root of the Merkle tree over the counted votes (FanVote.Certification's MerkleTree defines it).</summary>
    public required string MerkleRoot { get; init; }

    /// <summary>Leaves of that tree (= <see cref="Total"/>).</summary>
    public required long LeafCount { get; init; }

    /// <summary>Leaves per <see cref="ReceiptChunk"/> (a power of two).</summary>
    public required int ReceiptChunkSize { get; init; }

    /// <summary>How many <see cref="ReceiptChunk"/> messages carry the leaves.</summary>
    public required int ReceiptChunks { get; init; }

    /// <summary>Accounts with at least one counted vote.</summary>
    public required long Voters { get; init; }

    /// <summary>How many <see cref="CountedVotersChunk"/> messages carry them.</summary>
    public required int VoterChunks { get; init; }

    /// <summary>Hex SHA-256 over the counted voters' canonical lines (FanVote.Certification's VotersDigest).</summary>
    public required string VotersDigest { get; init; }

    /// <summary>When the audit ran (tally's clock).</summary>
    public required DateTimeOffset AuditedAt { get; init; }

    /// <summary>Ledger votes that ingress published without confirming them to their fan (they explain <see cref="Persisted"/> above <see cref="Accepted"/>).</summary>
    public required long Unconfirmed { get; init; }

    /// <summary>Votes tally received for the window and never counted: a seal that did not check, outside the window, not a candidate, after the audit.</summary>
    public required long Quarantined { get; init; }

    /// <summary>Quarantined votes by reason.</summary>
    public required IReadOnlyDictionary<string, long> QuarantinedByReason { get; init; }

    /// <summary>The nonce of the audit request this result answers.</summary>
    public required string AuditNonce { get; init; }

    /// <summary>Hex SHA-256 over the canonical form of every field above.</summary>
    public required string Digest { get; init; }

    /// <summary>Base64 ECDSA P-256 signature (IEEE P1363, over SHA-256) of the digest by the auditor (tally); null before signing.</summary>
    public string? Signature { get; init; }

    /// <summary>Hex fingerprint of the auditor's public key that made <see cref="Signature"/> (the first 8 bytes of SHA-256 of its SubjectPublicKeyInfo).</summary>
    public string? SigningKeyId { get; init; }
}

/// <summary>
/// One slice of a certified window's Merkle leaves, in leaf order (topic `receipt-chunks`, tally → results).
/// <see cref="Leaves"/> is base64 of 17-byte records: the vote id's 16 bytes in RFC 4122 (big-endian) order,
/// then the candidate's index in <see cref="Candidates"/>.
/// </summary>
public sealed record ReceiptChunk : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>0-based; chunk i holds leaves [i × chunk size, ...).</summary>
    public required int ChunkIndex { get; init; }

    /// <summary>How many chunks the window has.</summary>
    public required int ChunkCount { get; init; }

    /// <summary>Leaves in the whole tree.</summary>
    public required long LeafCount { get; init; }

    /// <summary>Candidate ids in display order (the index in each record points here).</summary>
    public required IReadOnlyList<string> Candidates { get; init; }

    /// <summary>The packed leaves.</summary>
    public required string Leaves { get; init; }
}

/// <summary>The window reached its last step: certified and paid out (topic `window-events`).</summary>
public sealed record WindowCompleted : FanVoteEvent
{
    /// <summary>The window.</summary>
    public required string WindowId { get; init; }

    /// <summary>The certified result's digest.</summary>
    public required string Digest { get; init; }
}
