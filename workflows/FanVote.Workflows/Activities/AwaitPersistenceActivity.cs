using System.Globalization;

namespace FanVote.Workflows;

public sealed record AwaitPersistenceInput(string WindowId, DateTimeOffset ClosesAt, int Attempt, DrainReports Reports);

/// <summary>
/// The drain: waits until every vote ingress accepted is in the ledger. Each run asks ingress and tally for their
/// counts (answers arrive as reports) and decides on the reports it has:
/// <list type="number">
/// <item>only counts taken at or after close + <see cref="LifecycleTimings.AcceptSettle"/> count: before that a vote
/// admitted just before the close may still be publishing, or be retried after a 503, and raise the accepted count;</item>
/// <item>persisted ≥ accepted: every accepted vote is stored (more can be stored than accepted: a vote the broker took
/// whose fan got a 503 and never retried is still a valid, admitted vote);</item>
/// <item>the two newest persisted counts are equal: the vote stream has gone quiet, so nothing in flight is left out.</item>
/// </list>
/// </summary>
public sealed class AwaitPersistenceActivity(IWindowRequests requests, LifecycleTimings timings, TimeProvider time)
{
    public async Task<ActivityResult<DrainOutcome>> RunAsync(AwaitPersistenceInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = time.GetUtcNow();
        var settled = input.ClosesAt + timings.AcceptSettle;
        if (now < settled)
        {
            return ActivityResult.WaitUntil<DrainOutcome>($"letting in-flight votes land until {settled:u}", settled);
        }

        var accepted = input.Reports.Accepted is { } a && a.At >= settled ? a : null;
        var persisted = input.Reports.Persisted.Where(p => p.At >= settled).ToList();
        if (accepted is not null && persisted.Count == 2 && persisted[0].Count == persisted[1].Count && persisted[1].Count >= accepted.Count)
        {
            return ActivityResult.Finished(new DrainOutcome(accepted.Count, persisted[1].Count, now, accepted.Unconfirmed ?? [], accepted.UnconfirmedTruncated));
        }

        await requests.CountsAsync(input.WindowId, input.Attempt, now, cancellationToken);
        var seen = string.Create(CultureInfo.InvariantCulture,
            $"waiting for the ledger: accepted {accepted?.Count.ToString(CultureInfo.InvariantCulture) ?? "?"}, persisted {(persisted.Count > 0 ? persisted[^1].Count.ToString(CultureInfo.InvariantCulture) : "?")}");
        return ActivityResult.WaitUntil<DrainOutcome>(seen, now + timings.Poll(input.Attempt));
    }
}
