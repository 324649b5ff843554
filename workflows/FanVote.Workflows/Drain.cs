using System.Globalization;

namespace FanVote.Workflows;

/// <summary>
/// The drain's rule: every vote ingress accepted is in the ledger. Decided on the reports recorded so far:
/// <list type="number">
/// <item>only counts taken at or after close + <see cref="LifecycleTimings.AcceptSettle"/> count: before that a vote
/// admitted just before the close may still be publishing, or be retried after a 503, and raise the accepted count;</item>
/// <item>persisted ≥ accepted: every accepted vote is stored (more can be stored than accepted: a vote the broker took
/// whose fan got a 503 and never retried is still a valid, admitted vote);</item>
/// <item>the two newest persisted counts are equal: the vote stream has gone quiet, so nothing in flight is left out.</item>
/// </list>
/// </summary>
public static class Drain
{
    /// <summary>The drain's outcome at <paramref name="now"/> when the reports satisfy the rule, else null (ask again).</summary>
    public static DrainOutcome? Decide(DrainReports reports, DateTimeOffset settled, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var accepted = reports.Accepted is { } a && a.At >= settled ? a : null;
        var persisted = reports.Persisted.Where(p => p.At >= settled).ToList();
        return accepted is not null && persisted.Count == 2 && persisted[0].Count == persisted[1].Count && persisted[1].Count >= accepted.Count
            ? new DrainOutcome(accepted.Count, persisted[1].Count, now, accepted.Unconfirmed ?? [], accepted.UnconfirmedTruncated)
            : null;
    }

    /// <summary>What the drain is waiting for, on the reports so far.</summary>
    public static string Describe(DrainReports reports, DateTimeOffset settled)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var accepted = reports.Accepted is { } a && a.At >= settled ? a : null;
        var persisted = reports.Persisted.Where(p => p.At >= settled).ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"waiting for the ledger: accepted {accepted?.Count.ToString(CultureInfo.InvariantCulture) ?? "?"}, persisted {(persisted.Count > 0 ? persisted[^1].Count.ToString(CultureInfo.InvariantCulture) : "?")}");
    }
}
