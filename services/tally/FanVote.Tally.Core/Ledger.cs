using FanVote.Transport;

namespace FanVote.Tally.Core;

/// <summary>A window's counts as persisted: <see cref="Seq"/> grows by one per committed batch that touched it.</summary>
public sealed record WindowCounts(string WindowId, long Seq, long Total, IReadOnlyDictionary<string, long> Counts);

/// <summary>
/// What one committed batch did: rows new to the ledger, rows it already had, votes quarantined (never counted; a
/// vote for a window audited meanwhile joins them in the same transaction), and the windows it changed.
/// </summary>
public sealed record LedgerWriteResult(int Inserted, int Duplicates, IReadOnlyList<WindowCounts> Changed, int Quarantined = 0);

/// <summary>A vote tally keeps but never counts, with why.</summary>
public sealed record QuarantinedVote(AcceptedVote Vote, string Reason);

/// <summary>
/// The vote ledger. <see cref="AppendAsync"/> is idempotent by vote id and atomic: rows, quarantined votes, counts and
/// totals commit together, so counts always equal the rows, whatever is redelivered. A vote of a window whose audit
/// is stored is quarantined ("after-audit") in the same transaction, serialized with the audit: a certified result
/// never misses a counted vote nor gains one later.
/// </summary>
public interface IVoteLedger
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<LedgerWriteResult> AppendAsync(IReadOnlyList<AcceptedVote> rows, IReadOnlyList<QuarantinedVote> quarantined, CancellationToken cancellationToken);

    /// <summary>Current counts of windows updated since <paramref name="since"/> (all windows when null).</summary>
    Task<IReadOnlyList<WindowCounts>> CountsAsync(DateTimeOffset? since, CancellationToken cancellationToken);
}
