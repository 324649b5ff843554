using System.Text.Json.Serialization;

namespace FanVote.Workflows;

/// <summary>Where a window is in its life. Later steps (drain, audit, payout) follow Closed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WindowPhase>))]
public enum WindowPhase
{
    Scheduled,
    Open,
    Closed,
}

/// <summary>What drives the lifecycle: the operator's create, and the reminders the driver set.</summary>
public enum WindowTrigger
{
    Create,
    OpenDue,
    CloseDue,
}

/// <summary>One step the window went through, with when and what happened.</summary>
public sealed record StepRecord(WindowPhase Phase, DateTimeOffset At, string Outcome);

/// <summary>The whole persisted state of one window.</summary>
public sealed record WindowState(WindowDefinition Definition, WindowPhase Phase, IReadOnlyList<StepRecord> History);

/// <summary>A side effect the driver performs after saving the new state. Each is idempotent.</summary>
public abstract record WindowEffect;

/// <summary>Publish the schedule (ingress enforces it locally).</summary>
public sealed record PublishScheduled(WindowDefinition Definition) : WindowEffect;

public sealed record PublishOpened(WindowDefinition Definition, DateTimeOffset At) : WindowEffect;

public sealed record PublishClosed(string WindowId, DateTimeOffset At) : WindowEffect;

/// <summary>Make <paramref name="Trigger"/> fire at <paramref name="DueAt"/> (now if in the past).</summary>
public sealed record ScheduleTrigger(WindowTrigger Trigger, DateTimeOffset DueAt) : WindowEffect;

public sealed record Transition(WindowState State, IReadOnlyList<WindowEffect> Effects)
{
    public bool Changed => Effects.Count > 0;
}

/// <summary>
/// The window lifecycle as a pure function: (state, trigger, now) → (new state, effects). A trigger that does
/// not apply to the current phase (a repeated reminder, a late duplicate) returns the state unchanged and no
/// effects, so the driver can deliver triggers at least once.
/// </summary>
public static class WindowLifecycle
{
    public static Transition Create(WindowDefinition definition, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var state = new WindowState(definition, WindowPhase.Scheduled, [new StepRecord(WindowPhase.Scheduled, now, "created")]);
        return new Transition(state,
        [
            new PublishScheduled(definition),
            new ScheduleTrigger(WindowTrigger.OpenDue, definition.OpensAt),
            new ScheduleTrigger(WindowTrigger.CloseDue, definition.ClosesAt),
        ]);
    }

    public static Transition Next(WindowState state, WindowTrigger trigger, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        var d = state.Definition;
        switch (state.Phase, trigger)
        {
            case (WindowPhase.Scheduled, WindowTrigger.OpenDue) when now >= d.OpensAt:
                return new Transition(
                    Step(state, WindowPhase.Open, now, "opened"),
                    [new PublishOpened(d, now)]);
            case (WindowPhase.Scheduled or WindowPhase.Open, WindowTrigger.CloseDue) when now >= d.ClosesAt:
                return new Transition(
                    Step(state, WindowPhase.Closed, now, state.Phase == WindowPhase.Scheduled ? "closed (never opened)" : "closed"),
                    [new PublishClosed(d.WindowId, now)]);
            case (WindowPhase.Scheduled, WindowTrigger.OpenDue):
                // Fired early (clock skew between hosts): ask again at the scheduled time.
                return new Transition(state, [new ScheduleTrigger(WindowTrigger.OpenDue, d.OpensAt)]);
            case (WindowPhase.Scheduled or WindowPhase.Open, WindowTrigger.CloseDue):
                return new Transition(state, [new ScheduleTrigger(WindowTrigger.CloseDue, d.ClosesAt)]);
            default:
                return new Transition(state, []);
        }
    }

    private static WindowState Step(WindowState s, WindowPhase phase, DateTimeOffset at, string outcome) =>
        s with { Phase = phase, History = [.. s.History, new StepRecord(phase, at, outcome)] };
}
