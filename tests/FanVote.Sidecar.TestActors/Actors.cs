using Dapr.Actors;
using Dapr.Actors.Runtime;

namespace FanVote.Sidecar.TestActors;

/// <summary>Records activation and deactivation of every test actor.</summary>
public abstract class JournaledActor(ActorHost host, Journal journal) : Actor(host)
{
    protected Journal Journal => journal;

    protected void Note(string evt, DateTimeOffset? start = null) => journal.Add(GetType().Name, Id.GetId(), evt, start);

    protected override Task OnActivateAsync()
    {
        Note("activated");
        return Task.CompletedTask;
    }

    protected override Task OnDeactivateAsync()
    {
        Note("deactivated");
        return Task.CompletedTask;
    }
}

public sealed class RecorderActor(ActorHost host, Journal journal) : JournaledActor(host, journal), IRecorder
{
    public async Task<int> Work(int milliseconds)
    {
        var start = DateTimeOffset.UtcNow;
        await Task.Delay(milliseconds);
        Note("work", start);
        return milliseconds * 2;
    }
}

public sealed class ReminderActor(ActorHost host, Journal journal) : JournaledActor(host, journal), IReminderActor, IRemindable
{
    public Task Arm(string name, int dueMs, int periodMs, int failFirst)
    {
        Journal.Set($"{Id.GetId()}/{name}", failFirst);
        return RegisterReminderAsync(name, [1, 2, 3], TimeSpan.FromMilliseconds(dueMs), periodMs > 0 ? TimeSpan.FromMilliseconds(periodMs) : Timeout.InfiniteTimeSpan);
    }

    public Task Disarm(string name) => UnregisterReminderAsync(name);

    public Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        Note($"attempt:{reminderName}");
        if (Journal.TakeOne($"{Id.GetId()}/{reminderName}"))
        {
            throw new InvalidOperationException($"reminder {reminderName} told to fail");
        }

        Note($"tick:{reminderName}:{string.Join(",", state ?? [])}");
        return Task.CompletedTask;
    }
}

public sealed class TimerActor(ActorHost host, Journal journal) : JournaledActor(host, journal), ITimerActor
{
    public Task StartTimer(int dueMs, int periodMs) =>
        RegisterTimerAsync("t", nameof(Tick), null, TimeSpan.FromMilliseconds(dueMs), TimeSpan.FromMilliseconds(periodMs));

    public Task Tick(byte[] data)
    {
        Note("tick");
        return Task.CompletedTask;
    }
}

public sealed class ThrowerActor(ActorHost host, Journal journal) : JournaledActor(host, journal), IThrower
{
    public Task Boom() => throw new InvalidOperationException("boom from the actor");
}

public sealed class StateActor(ActorHost host, Journal journal) : JournaledActor(host, journal), IStateActor
{
    public Task Put(string key, string value, int ttlSeconds) =>
        ttlSeconds > 0 ? StateManager.SetStateAsync(key, value, TimeSpan.FromSeconds(ttlSeconds)) : StateManager.SetStateAsync(key, value);

    public async Task<string> Read(string key)
    {
        var v = await StateManager.TryGetStateAsync<string>(key);
        return v.HasValue ? v.Value : "";
    }
}
