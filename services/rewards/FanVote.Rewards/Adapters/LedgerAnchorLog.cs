using FanVote.Rewards.Core;
using FanVote.Security;
using Microsoft.Extensions.Options;

namespace FanVote.Rewards.Adapters;

/// <summary>
/// Records heads of the ledger outside the database: one HMAC'd JSON line each (<see cref="LedgerAnchors"/>) appended
/// to FANVOTE_LEDGER_ANCHORS with <see cref="AppendOnlyFile"/> (O_APPEND: every instance's lines land whole at the end,
/// none overwrites another's; 0600; synced before the call returns). `ledger verify` checks the chain against the latest.
/// Someone who rewrites the database cannot remove or change these lines, nor forge one without the key, so a
/// truncated or re-chained tail shows. No file configured: nothing is anchored (allowed only in Development).
/// </summary>
public sealed class LedgerAnchorLog(IOptions<RewardsOptions> options, LedgerKey key, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _anchoredSeq = -1;

    public string? Path => options.Value.AnchorFile is { Length: > 0 } p ? p : null;

    /// <summary>The highest seq this instance anchored (-1 none yet).</summary>
    public long AnchoredSeq => Volatile.Read(ref _anchoredSeq);

    /// <summary>Appends (seq, head, now) unless this instance anchored this row or a later one already; returns whether it wrote.</summary>
    public async Task<bool> AnchorAsync(long seq, byte[] head, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(head);
        if (Path is not { } path || seq <= 0)
        {
            return false;
        }

        await _gate.WaitAsync(ct);
        try
        {
            if (seq <= _anchoredSeq)
            {
                return false;
            }

            AppendOnlyFile.AppendLine(path, LedgerAnchors.Line(key, new ChainAnchor(seq, head, time.GetUtcNow())));
            Volatile.Write(ref _anchoredSeq, seq);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
