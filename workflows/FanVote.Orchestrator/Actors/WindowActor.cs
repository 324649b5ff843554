using Dapr.Actors.Runtime;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults.Auth;
using FanVote.Workflows;
using Microsoft.Extensions.Options;

namespace FanVote.Orchestrator.Actors;

/// <summary>
/// Drives <see cref="WindowWorkflow"/> for one window: load the state, run the due step, save, set the reminder for
/// the next one. Step effects run before the save and are idempotent, so after a crash at any point the saved
/// state runs the same step again. One persisted reminder ("step") wakes the window; it repeats every heartbeat
/// as well, so a wake-up lost to a dead app (the sidecar gives up on a reminder tick after 3 retries) comes back.
/// Reports from services are recorded (pure, in <see cref="WindowLifecycle"/>) and advance the window at once.
/// </summary>
public sealed class WindowActor(
    ActorHost host, WindowWorkflow workflow, IWindowAnnouncements announcements, IOptions<OrchestratorOptions> options, AuditorKey auditor, TimeProvider time, ILogger<WindowActor> log)
    : Actor(host), IWindowActor, IRemindable
{
    private const string StateKey = "window";
    private const string StepReminder = "step";
    private const int MaxStepsPerTurn = 8;

    public async Task<CreateResult> CreateAsync(CreateWindow request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var definition = request.Definition;
        var existing = await StateManager.TryGetStateAsync<WindowState>(StateKey);
        if (existing.HasValue)
        {
            var same = existing.Value.Definition.SameAs(definition) && existing.Value.StepByStep == request.StepByStep;
            if (same && existing.Value.Phase < WindowPhase.Closed)
            {
                // The operator's retry of a create whose announcement may have been lost: announce again (same event id).
                await announcements.ScheduledAsync(existing.Value.Definition, time.GetUtcNow(), CancellationToken.None);
            }

            return new CreateResult(WindowStatus.From(existing.Value), Created: false, Conflict: !same);
        }

        // Whoever calls the actor (the operator API, or anything else that reaches the actor route with the tokens),
        // the definition is checked here: the actor never holds a window the operator API would refuse.
        var now = time.GetUtcNow();
        if (definition.Validate(now) is { Count: > 0 } errors)
        {
            return new CreateResult(null, Created: false, Conflict: false, Invalid: errors);
        }

        var state = WindowLifecycle.Create(definition, now, request.StepByStep);

        // The reminder before the save: a window saved without its reminder would never open. A reminder without a
        // saved window (a crash in between) finds nothing and removes itself; the operator's retry creates it again.
        // The announcement after the save: ingress never enforces a window the orchestrator does not hold (a failed
        // announcement is repeated by the operator's retry, above, and by the open step).
        await ArmAsync(state.Progress.NextAttemptAt);
        await SaveAsync(state);
        await announcements.ScheduledAsync(definition, now, CancellationToken.None);
        OrchestratorLog.WindowCreated(log, definition.WindowId, definition.OpensAt, definition.ClosesAt);
        return new CreateResult(WindowStatus.From(state), Created: true, Conflict: false);
    }

    public async Task<WindowStatus?> GetAsync()
    {
        var s = await StateManager.TryGetStateAsync<WindowState>(StateKey);
        return s.HasValue ? WindowStatus.From(s.Value) : null;
    }

    public async Task<WindowStatus?> ContinueAsync()
    {
        var current = await StateManager.TryGetStateAsync<WindowState>(StateKey);
        if (!current.HasValue)
        {
            return null;
        }

        var released = WindowLifecycle.Release(current.Value);
        if (!ReferenceEquals(released, current.Value))
        {
            // A held window has no reminder: set it before saving the go, so a crash in between cannot strand the window.
            await ArmAsync(time.GetUtcNow());
            await SaveAsync(released);
            released = await AdvanceAsync(released);
        }

        return WindowStatus.From(released);
    }

    public Task ReportAcceptedAsync(AcceptedVotesReported report) => RecordAsync(s => WindowLifecycle.Record(s, report, time.GetUtcNow()));

    public Task ReportPersistedAsync(PersistedVotesReported report) => RecordAsync(s => WindowLifecycle.Record(s, report, time.GetUtcNow()));

    public Task ReportAuditedAsync(WindowAudited report) => RecordAsync(s => WindowLifecycle.Record(s, report, time.GetUtcNow(), auditor.Key));

    public Task ReportPaidAsync(RewardsPaid report) => RecordAsync(s => WindowLifecycle.Record(s, report, time.GetUtcNow()));

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        var current = await StateManager.TryGetStateAsync<WindowState>(StateKey);
        if (reminderName != StepReminder || !current.HasValue)
        {
            // A reminder of an older version, or of a create that crashed before saving: nothing to drive.
            await UnregisterReminderAsync(reminderName);
            return;
        }

        await AdvanceAsync(current.Value);
    }

    private async Task RecordAsync(Func<WindowState, WindowState> record)
    {
        var current = await StateManager.TryGetStateAsync<WindowState>(StateKey);
        if (!current.HasValue)
        {
            return;
        }

        var next = record(current.Value);
        if (!ReferenceEquals(next, current.Value))
        {
            await SaveAsync(next);
            await AdvanceAsync(next);
        }
    }

    /// <summary>Runs due steps (a few in a row when each finishes at once), saving after each, then sets the next wake-up.</summary>
    private async Task<WindowState> AdvanceAsync(WindowState state)
    {
        WorkflowStep step;
        var turns = 0;
        do
        {
            step = await workflow.StepAsync(state, CancellationToken.None);
            if (!ReferenceEquals(step.State, state))
            {
                await SaveAsync(step.State);
            }

            if (step.Advanced)
            {
                OrchestratorLog.WindowStep(log, state.Definition.WindowId, step.State.Phase, step.State.History[^1].Outcome);
            }
            else if (step.State.Progress.LastError is { } error && step.State.Progress.Failures > state.Progress.Failures)
            {
                OrchestratorLog.StepFailed(log, state.Definition.WindowId, state.Phase, step.State.Progress.Failures, error);
            }

            state = step.State;
        }
        while (step.Advanced && step.WakeAt <= time.GetUtcNow() && ++turns < MaxStepsPerTurn);

        await ArmAsync(step.WakeAt);
        return state;
    }

    private async Task ArmAsync(DateTimeOffset? wakeAt)
    {
        if (wakeAt is null)
        {
            await UnregisterReminderAsync(StepReminder);
            return;
        }

        var due = wakeAt.Value - time.GetUtcNow();
        await RegisterReminderAsync(StepReminder, null, due > TimeSpan.Zero ? due : TimeSpan.Zero, options.Value.Heartbeat);
    }

    private async Task SaveAsync(WindowState state)
    {
        await StateManager.SetStateAsync(StateKey, state);
        await StateManager.SaveStateAsync();
    }
}
