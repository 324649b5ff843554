using Dapr.Workflow;

namespace FanVote.Workflows.Calls;

/// <summary>
/// Compiled into each host of Dapr workflows (orchestrator, rewards) as a linked source file: the helpers need
/// Dapr.Workflow, whose source generator belongs only in assemblies that define workflows.
/// What every FanVote workflow does the same way around its context: its clock, an activity run until it succeeds, and
/// the next external event before a deadline. Only context calls, in a fixed order: deterministic on replay.
/// </summary>
internal static class WorkflowCalls
{
    /// <summary>The workflow's clock (replay-safe), in UTC.</summary>
    public static DateTimeOffset Now(this WorkflowContext ctx) => new(DateTime.SpecifyKind(ctx.CurrentUtcDateTime, DateTimeKind.Utc), TimeSpan.Zero);

    /// <summary>
    /// Runs <paramref name="activity"/> until it succeeds. Each failure goes to <paramref name="failed"/> (with the
    /// activity, error type and message), which records and shows it and says when to try again; a durable timer waits
    /// until then.
    /// </summary>
    public static async Task<T> CallUntilDoneAsync<T>(this WorkflowContext ctx, string activity, object input, Func<string, DateTimeOffset> failed)
    {
        while (true)
        {
            try
            {
                return await ctx.CallActivityAsync<T>(activity, input);
            }
            catch (WorkflowTaskFailedException e)
            {
                var retryAt = failed($"{activity}: {e.FailureDetails.ErrorType}: {e.FailureDetails.ErrorMessage}");
                await ctx.CreateTimer(retryAt.UtcDateTime, CancellationToken.None);
            }
        }
    }

    /// <summary>The next external event named <paramref name="name"/>, or null once <paramref name="deadline"/> has passed without one.</summary>
    public static async Task<T?> NextEventAsync<T>(this WorkflowContext ctx, string name, DateTimeOffset deadline)
        where T : class
    {
        var wait = deadline - ctx.Now();
        if (wait <= TimeSpan.Zero)
        {
            return null;
        }

        try
        {
            return await ctx.WaitForExternalEventAsync<T>(name, wait);
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }
}
