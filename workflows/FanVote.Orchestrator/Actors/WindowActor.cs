using Dapr.Actors.Runtime;
using FanVote.Orchestrator.Adapters;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Actors;

/// <summary>
/// Drives <see cref="WindowLifecycle"/>: load state, compute the transition, perform its effects, save. Effects
/// run before the save and are idempotent (stable event ids, reminders upserted by name), so a crash at any
/// point is repaired by the next delivery of the same trigger: a reminder whose callback failed fires again.
/// </summary>
public sealed class WindowActor(ActorHost host, IWindowEventPublisher publisher, TimeProvider time, ILogger<WindowActor> log)
    : Actor(host), IWindowActor, IRemindable
{
    private const string StateKey = "window";
    private const string OpenReminder = "open";
    private const string CloseReminder = "close";

    public async Task<CreateResult> CreateAsync(WindowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var existing = await StateManager.TryGetStateAsync<WindowState>(StateKey);
        if (existing.HasValue)
        {
            var same = SameDefinition(existing.Value.Definition, definition);
            return new CreateResult(WindowStatus.From(existing.Value), Created: false, Conflict: !same);
        }

        var transition = WindowLifecycle.Create(definition, time.GetUtcNow());
        await ApplyAsync(transition);
        OrchestratorLog.WindowCreated(log, definition.WindowId, definition.OpensAt, definition.ClosesAt);
        return new CreateResult(WindowStatus.From(transition.State), Created: true, Conflict: false);
    }

    public async Task<WindowStatus?> GetAsync()
    {
        var s = await StateManager.TryGetStateAsync<WindowState>(StateKey);
        return s.HasValue ? WindowStatus.From(s.Value) : null;
    }

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        var trigger = reminderName switch
        {
            OpenReminder => WindowTrigger.OpenDue,
            CloseReminder => WindowTrigger.CloseDue,
            _ => (WindowTrigger?)null,
        };
        var current = await StateManager.TryGetStateAsync<WindowState>(StateKey);
        if (trigger is null || !current.HasValue)
        {
            // A reminder registered by a create that crashed before saving: nothing to drive.
            return;
        }

        var transition = WindowLifecycle.Next(current.Value, trigger.Value, time.GetUtcNow());
        if (transition.Changed)
        {
            await ApplyAsync(transition);
            var phase = transition.State.Phase.ToString();
            OrchestratorLog.WindowStep(log, current.Value.Definition.WindowId, phase);
        }
    }

    private async Task ApplyAsync(Transition transition)
    {
        var now = time.GetUtcNow();
        foreach (var effect in transition.Effects)
        {
            if (effect is ScheduleTrigger t)
            {
                var due = t.DueAt - now;
                await RegisterReminderAsync(
                    t.Trigger == WindowTrigger.OpenDue ? OpenReminder : CloseReminder,
                    null,
                    due > TimeSpan.Zero ? due : TimeSpan.Zero,
                    Timeout.InfiniteTimeSpan);
            }
            else
            {
                await publisher.PublishAsync(effect, now, CancellationToken.None);
            }
        }

        await StateManager.SetStateAsync(StateKey, transition.State);
        await StateManager.SaveStateAsync();
    }

    private static bool SameDefinition(WindowDefinition a, WindowDefinition b) =>
        a.WindowId == b.WindowId && a.Title == b.Title && a.Candidates.SequenceEqual(b.Candidates) &&
        a.OpensAt == b.OpensAt && a.ClosesAt == b.ClosesAt && a.VotesPerAccount == b.VotesPerAccount;
}
