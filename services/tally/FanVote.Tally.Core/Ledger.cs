using FanVote.Contracts;

namespace FanVote.Tally.Core;

/// <summary>A window's counts as persisted: <see cref="Seq"/> grows by one per committed batch that touched it.</summary>
public sealed record WindowCounts(string WindowId, long Seq, long Total, IReadOnlyDictionary<string, long> Counts);

/// <summary>What one committed batch did: rows new to the ledger, rows it already had, and the windows it changed.</summary>
public sealed record LedgerWriteResult(int Inserted, int Duplicates, IReadOnlyList<WindowCounts> Changed);

/// <summary>
/// The vote ledger. <see cref="AppendAsync"/> is idempotent by vote id and atomic: rows, counts and totals
/// commit together, so counts always equal the rows, whatever is redelivered.
/// </summary>
public interface IVoteLedger
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<LedgerWriteResult> AppendAsync(IReadOnlyList<AcceptedVote> rows, CancellationToken cancellationToken);

    /// <summary>Current counts of windows updated since <paramref name="since"/> (all windows when null).</summary>
    Task<IReadOnlyList<WindowCounts>> CountsAsync(DateTimeOffset? since, CancellationToken cancellationToken);
}
