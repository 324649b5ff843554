using Dapr.Workflow;
using StackExchange.Redis;

namespace FanVote.Sidecar.TestWorkflows;

/// <summary>Activities in sequence (each effect recorded in Redis), with an optional durable timer between them.</summary>
public sealed class StepsWorkflow : Workflow<StepsInput, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, StepsInput input)
    {
        var sum = 0;
        for (var i = 1; i <= input.Steps; i++)
        {
            sum += await context.CallActivityAsync<int>(nameof(StepActivity), new StepWork(input.Run, context.InstanceId, i, input.Gated));
            if (input.TimerMs > 0)
            {
                await context.CreateTimer(TimeSpan.FromMilliseconds(input.TimerMs));
            }

            context.SetCustomStatus(new { done = i });
        }

        return sum;
    }
}

/// <summary>Counts its starts and completions in Redis; gated, it waits for the test's go key first.</summary>
public sealed class StepActivity(IConnectionMultiplexer redis) : WorkflowActivity<StepWork, int>
{
    public override async Task<int> RunAsync(WorkflowActivityContext context, StepWork input)
    {
        var db = redis.GetDatabase();
        await db.StringIncrementAsync(Names.Started(input.Run, input.InstanceId, input.Index));
        while (input.Gated && !await db.KeyExistsAsync(Names.Go(input.Run, input.InstanceId, input.Index)))
        {
            await Task.Delay(50);
        }

        await db.StringIncrementAsync(Names.Done(input.Run, input.InstanceId, input.Index));
        return input.Index * 10;
    }
}

public sealed class TimerWorkflow : Workflow<TimerInput, DateTime>
{
    public override async Task<DateTime> RunAsync(WorkflowContext context, TimerInput input)
    {
        await context.CreateTimer(TimeSpan.FromMilliseconds(input.DelayMs));
        return context.CurrentUtcDateTime;
    }
}

/// <summary>Waits for one event: no timeout (TimeoutMs 0), a timeout, or the indefinite form (TimeoutMs -1, the sentinel timer).</summary>
public sealed class EventWorkflow : Workflow<EventInput, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, EventInput input)
    {
        if (input.DelayBeforeWaitMs > 0)
        {
            await context.CreateTimer(TimeSpan.FromMilliseconds(input.DelayBeforeWaitMs));
        }

        try
        {
            return input.TimeoutMs switch
            {
                0 => await context.WaitForExternalEventAsync<string>(input.EventName),
                < 0 => await context.WaitForExternalEventAsync<string>(input.EventName, Timeout.InfiniteTimeSpan),
                _ => await context.WaitForExternalEventAsync<string>(input.EventName, TimeSpan.FromMilliseconds(input.TimeoutMs)),
            };
        }
        catch (TaskCanceledException)
        {
            return "timed out";
        }
    }
}

/// <summary>An activity that fails its first FailTimes attempts, under a retry policy of MaxAttempts.</summary>
public sealed class RetryWorkflow : Workflow<FlakyInput, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, FlakyInput input)
    {
        var policy = new WorkflowRetryPolicy(maxNumberOfAttempts: input.MaxAttempts, firstRetryInterval: TimeSpan.FromMilliseconds(100));
        try
        {
            return await context.CallActivityAsync<string>(nameof(FlakyActivity), input, new WorkflowTaskOptions(policy));
        }
        catch (WorkflowTaskFailedException e)
        {
            return "failed: " + e.FailureDetails.ErrorMessage;
        }
    }
}

public sealed class FlakyActivity(IConnectionMultiplexer redis) : WorkflowActivity<FlakyInput, string>
{
    public override async Task<string> RunAsync(WorkflowActivityContext context, FlakyInput input)
    {
        var attempt = await redis.GetDatabase().StringIncrementAsync(Names.Attempts(input.Run));
        return attempt <= input.FailTimes
            ? throw new InvalidOperationException($"attempt {attempt} fails on purpose")
            : $"ok after {attempt} attempts";
    }
}

/// <summary>A failure nobody catches: the workflow ends FAILED with the activity's error.</summary>
public sealed class AlwaysFailsWorkflow : Workflow<FlakyInput, string>
{
    public override Task<string> RunAsync(WorkflowContext context, FlakyInput input) =>
        context.CallActivityAsync<string>(nameof(FlakyActivity), input);
}

public sealed class ParentWorkflow : Workflow<ParentInput, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, ParentInput input)
    {
        try
        {
            var r = await context.CallChildWorkflowAsync<string>(nameof(ChildWorkflow), input, new ChildWorkflowTaskOptions { InstanceId = input.ChildId });
            return "child said " + r;
        }
        catch (WorkflowTaskFailedException e)
        {
            return "child failed: " + e.FailureDetails.ErrorMessage;
        }
    }
}

public sealed class ChildWorkflow : Workflow<ParentInput, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, ParentInput input)
    {
        await context.CreateTimer(TimeSpan.FromMilliseconds(200));
        return input.ChildFails ? throw new InvalidOperationException("the child fails on purpose") : input.ChildInput.ToUpperInvariant();
    }
}

/// <summary>Continue-as-new until Value reaches Until; an "add" event raised meanwhile is carried over and counted.</summary>
public sealed class CounterWorkflow : Workflow<CounterInput, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, CounterInput input)
    {
        if (input.Value >= input.Until)
        {
            return input.Value;
        }

        await context.CreateTimer(TimeSpan.FromMilliseconds(100));
        context.ContinueAsNew(input with { Value = input.Value + 1 });
        return -1;
    }
}

/// <summary>Shows a custom status, then waits for "finish" (for suspend/resume/terminate/purge).</summary>
public sealed class StatusWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input)
    {
        context.SetCustomStatus(new { phase = "waiting", input });
        var finish = await context.WaitForExternalEventAsync<string>("finish");
        context.SetCustomStatus(new { phase = "finished", input });
        return "finished with " + finish;
    }
}

/// <summary>An activity on another app (cross-app routing): the local sidecar fails the task with a clear message.</summary>
public sealed class CrossAppWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input)
    {
        try
        {
            return await context.CallActivityAsync<string>(nameof(FlakyActivity), new FlakyInput(input, 0, 1), new WorkflowTaskOptions { TargetAppId = "some-other-app" });
        }
        catch (WorkflowTaskFailedException e)
        {
            return "failed: " + e.FailureDetails.ErrorMessage;
        }
    }
}
