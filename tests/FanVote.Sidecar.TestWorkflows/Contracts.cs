// Compiled into the conformance tests too (linked): workflow names and the records they exchange.
namespace FanVote.Sidecar.TestWorkflows;

/// <summary>Run <paramref name="Steps"/> activities in sequence; with <paramref name="Gated"/> each waits for the test's go.</summary>
public sealed record StepsInput(string Run, int Steps, bool Gated, int TimerMs = 0);

public sealed record StepWork(string Run, string InstanceId, int Index, bool Gated);

public sealed record TimerInput(int DelayMs);

public sealed record EventInput(string EventName, int TimeoutMs, int DelayBeforeWaitMs = 0);

public sealed record FlakyInput(string Run, int FailTimes, int MaxAttempts);

public sealed record ParentInput(string ChildId, string ChildInput, bool ChildFails);

public sealed record CounterInput(int Value, int Until);

public static class Names
{
    public const string Steps = "StepsWorkflow";
    public const string Timer = "TimerWorkflow";
    public const string Event = "EventWorkflow";
    public const string Retry = "RetryWorkflow";
    public const string AlwaysFails = "AlwaysFailsWorkflow";
    public const string Parent = "ParentWorkflow";
    public const string Child = "ChildWorkflow";
    public const string Counter = "CounterWorkflow";
    public const string Status = "StatusWorkflow";
    public const string CrossApp = "CrossAppWorkflow";

    /// <summary>Redis keys the activities write (the tests read them).</summary>
    public static string Started(string run, string instance, int step) => $"fvwf:{run}:{instance}:started:{step}";

    public static string Done(string run, string instance, int step) => $"fvwf:{run}:{instance}:done:{step}";

    public static string Go(string run, string instance, int step) => $"fvwf:{run}:{instance}:go:{step}";

    public static string Attempts(string run) => $"fvwf:{run}:attempts";
}
