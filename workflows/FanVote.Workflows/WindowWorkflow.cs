using System.Globalization;

namespace FanVote.Workflows;

/// <summary>The state after one step, and when the window needs the driver again (null: not by itself: completed, or held).</summary>
public sealed record WorkflowStep(WindowState State, DateTimeOffset? WakeAt, bool Advanced);

/// <summary>
/// Runs the activity of the window's current phase once and folds its result into the state. The driver (an actor,
/// or Dapr.Workflow later) loads the state, calls <see cref="StepAsync"/>, saves the result and wakes the window at
/// <see cref="WorkflowStep.WakeAt"/>. Effects happen before the save and are idempotent, so after a crash at any
/// point the saved state simply runs the same step again.
/// </summary>
public sealed class WindowWorkflow(
    OpenWindowActivity open,
    CloseWindowActivity close,
    AwaitPersistenceActivity drain,
    AuditWindowActivity audit,
    PayRewardsActivity pay,
    CompleteWindowActivity complete,
    LifecycleTimings timings,
    TimeProvider time)
{
    public async Task<WorkflowStep> StepAsync(WindowState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var now = time.GetUtcNow();
        if (state.Phase == WindowPhase.Completed)
        {
            return new WorkflowStep(state, null, false);
        }

        if (state.Held)
        {
            return new WorkflowStep(state, null, false);
        }

        if (state.Progress.NextAttemptAt is { } due && due > now)
        {
            return new WorkflowStep(state, due, false);
        }

        var attempt = state.Progress.Attempts + 1;
        try
        {
            var next = state.Phase switch
            {
                WindowPhase.Scheduled => Fold(state, await open.RunAsync(new(state.Definition), cancellationToken), now, _ => "opened", null),
                WindowPhase.Open => Fold(state, await close.RunAsync(new(state.Definition), cancellationToken), now, _ => "closed", null),
                WindowPhase.Closed => Fold(state, await drain.RunAsync(new(state.Definition.WindowId, state.Definition.ClosesAt, attempt, state.Reports), cancellationToken),
                    now, WindowLifecycle.Describe, (s, d) => s with { Drained = d }),
                WindowPhase.Drained => Fold(state, await audit.RunAsync(new(state.Definition, state.Drained!, attempt, state.AuditReport, state.AuditNonce), cancellationToken),
                    now, Audited, (s, c) => s with { Certified = c }),
                WindowPhase.Audited => Fold(state, await pay.RunAsync(new(state.Definition, state.Certified!, attempt, state.PaidReport), cancellationToken),
                    now, Paid, (s, p) => s with { Paid = p }),
                _ => Fold(state, await complete.RunAsync(new(state.Definition.WindowId, state.Certified!.Digest), cancellationToken), now, _ => "completed", null),
            };
            return new WorkflowStep(next, next.Phase == WindowPhase.Completed ? null : next.Progress.NextAttemptAt ?? now, next.Phase != state.Phase);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failed = WindowLifecycle.Fail(state, $"{e.GetType().Name}: {e.Message}", now, timings);
            return new WorkflowStep(failed, failed.Progress.NextAttemptAt, false);
        }
    }

    private static WindowState Fold<T>(WindowState s, ActivityResult<T> result, DateTimeOffset now, Func<T, string> outcome, Func<WindowState, T, WindowState>? keep)
        where T : class
    {
        if (!result.Done)
        {
            return WindowLifecycle.Wait(s, result.Waiting!, result.RetryAt, now);
        }

        var kept = keep is null ? s : keep(s, result.Output!);
        return WindowLifecycle.Complete(kept, s.Phase + 1, outcome(result.Output!), now, now);
    }

    private static string Audited(Contracts.Events.CertifiedResult c) =>
        string.Create(CultureInfo.InvariantCulture, $"audited: {c.Total} counted, {c.Excluded} excluded, live tally {(c.LiveMatches ? "matches" : "DIFFERS")}; digest {c.Digest[..16]}…");

    private static string Paid(PayoutOutcome p) =>
        string.Create(CultureInfo.InvariantCulture, $"paid: {p.Points} points to {p.Accounts} accounts ({p.Entries} ledger entries, head #{p.LedgerHeadSeq})");
}
