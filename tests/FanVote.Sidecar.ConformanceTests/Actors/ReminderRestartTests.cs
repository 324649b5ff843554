using FanVote.Sidecar.TestActors;

namespace FanVote.Sidecar.ConformanceTests.Actors;

/// <summary>Reminders are persisted: one registered before the hosting sidecar is SIGKILLed still fires after a restart.</summary>
[Trait("Category", "Conformance")]
public sealed class ReminderRestartTests : IAsyncLifetime
{
    private readonly ActorRig _rig = new();

    public ValueTask InitializeAsync() => _rig.InitializeAsync();

    public ValueTask DisposeAsync() => _rig.DisposeAsync();

    [Fact]
    public async Task Reminder_HostingSidecarKilledAndRestarted_StillFires()
    {
        var id = "r-" + Guid.NewGuid().ToString("N")[..8];
        await _rig.Proxy<IReminderActor>("ReminderActor", id).Arm("wake", 3000, 0, 0);

        await _rig.Host.KillAsync();
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(await _rig.JournalAsync("ReminderActor", id), e => e.Event.StartsWith("tick:wake", StringComparison.Ordinal));
        await _rig.Host.RestartAsync();

        var j = await _rig.WaitJournalAsync("ReminderActor", id, j => j.Any(e => e.Event.StartsWith("tick:wake", StringComparison.Ordinal)), TimeSpan.FromSeconds(15));
        Assert.Single(j, e => e.Event.StartsWith("tick:wake", StringComparison.Ordinal));
    }

    /// <summary>
    /// A one-shot reminder that fell due while its sidecar was down fires when it is back, and is not replayed after:
    /// Dapr delivers reminders at least once, so a second delivery is allowed (one CI run on a loaded machine saw one,
    /// 15 s after the first, cause not found yet), a third is not.
    /// </summary>
    [Fact]
    public async Task Reminder_DueWhileSidecarWasDown_FiresAtRestart_AndIsNotReplayed()
    {
        var id = "r-" + Guid.NewGuid().ToString("N")[..8];
        await _rig.Proxy<IReminderActor>("ReminderActor", id).Arm("overdue", 1500, 0, 0);

        await _rig.Host.KillAsync();
        await Task.Delay(2000, TestContext.Current.CancellationToken);
        await _rig.Host.RestartAsync();

        var j = await _rig.WaitJournalAsync("ReminderActor", id, j => j.Any(e => e.Event.StartsWith("tick:overdue", StringComparison.Ordinal)), TimeSpan.FromSeconds(15));
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        var ticks = (await _rig.JournalAsync("ReminderActor", id)).Where(e => e.Event.StartsWith("tick:overdue", StringComparison.Ordinal)).ToList();
        Assert.True(ticks.Count is 1 or 2, $"the one-shot reminder fired {ticks.Count} times: {string.Join(", ", ticks.Select(t => $"{t.Event} at {t.Start:O}"))}");
    }
}
