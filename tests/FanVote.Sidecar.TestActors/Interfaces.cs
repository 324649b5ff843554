using Dapr.Actors;

// Compiled into the conformance tests too (linked): actor remoting identifies interfaces and methods by name.
namespace FanVote.Sidecar.TestActors;

public interface IRecorder : IActor
{
    Task<int> Work(int milliseconds);
}

public interface IReminderActor : IActor
{
    Task Arm(string name, int dueMs, int periodMs, int failFirst);

    Task Disarm(string name);
}

public interface ITimerActor : IActor
{
    Task StartTimer(int dueMs, int periodMs);
}

public interface IThrower : IActor
{
    Task Boom();
}

public interface IStateActor : IActor
{
    Task Put(string key, string value, int ttlSeconds);

    Task<string> Read(string key);
}
