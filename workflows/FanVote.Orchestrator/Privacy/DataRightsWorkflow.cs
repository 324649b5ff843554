using Dapr.Workflow;
using FanVote.Workflows.Calls;
using FanVote.Contracts.Events;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Privacy;

/// <summary>
/// A fan's data request as a Dapr workflow (instance id = the request id, one per account and kind): it asks the
/// services that hold fans' data on `data-requests` and waits for their reports ("report" events raised by the
/// `data-reports` subscription), asking again those that have not answered, with a growing wait, until every one has.
/// An erasure asks ingress first (it unlinks the account from the person and stops its sessions), waits for votes in
/// flight to land, then asks tally, fraud, rewards and results, and logs the erasure in the action log. An export asks
/// all at once, keeps the parts in its status for <see cref="DataRightsTimings.ExportKeptFor"/>, then continues as new
/// in the "expired" state, which drops the copy with the history. The state is a <see cref="DataRightsStatus"/> folded
/// through the pure <see cref="DataRights"/> functions and published as the custom status. A crash of any process at any
/// point resumes where it was: effects are idempotent activities, and every service's part can be done twice.
/// </summary>
public sealed class DataRightsWorkflow : Workflow<DataRequest, DataRightsStatus>
{
    public const string ReportEvent = "report";

    public override async Task<DataRightsStatus> RunAsync(WorkflowContext context, DataRequest input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var run = new Run(context, input);
        if (input.Expired)
        {
            return run.Show(DataRights.Expire(input, run.Now));
        }

        run.S = DataRights.Start(input, run.Now);
        run.Show(run.S);
        await run.CollectAsync(DataRights.FirstOf(input.Kind));
        if (DataRights.ThenOf(input.Kind) is { Count: > 0 } then)
        {
            var settled = run.Now + input.Timings.Settle;
            run.S = DataRights.Waiting(run.S, $"ingress stopped the account; letting its votes in flight land until {settled:u}");
            run.Show(run.S);
            await context.CreateTimer(settled.UtcDateTime, CancellationToken.None);
            await run.CollectAsync(then);
        }

        if (input.Kind == DataRequestKinds.Erase)
        {
            await run.CallAsync<bool>(nameof(LogErasureActivity), new ErasureDone(input.RequestId, run.Now, [.. run.S.Services.Select(s => s.Service)]));
            return run.Show(DataRights.Finish(run.S, run.Now, expiresAt: null));
        }

        var expires = run.Now + input.Timings.ExportKeptFor;
        run.Show(DataRights.Finish(run.S, run.Now, expires));
        await context.CreateTimer(expires.UtcDateTime, CancellationToken.None);
        context.ContinueAsNew(input with { Expired = true });
        return run.S;
    }

    private sealed class Run(WorkflowContext ctx, DataRequest input)
    {
        private readonly ILogger _log = ctx.CreateReplaySafeLogger<DataRightsWorkflow>();

        public DataRightsStatus S { get; set; } = null!;

        public DateTimeOffset Now => ctx.Now();

        public DataRightsStatus Show(DataRightsStatus s)
        {
            S = s;
            ctx.SetCustomStatus(s);
            return s;
        }

        /// <summary>Asks <paramref name="services"/> until each has reported, the wait between asks growing.</summary>
        public async Task CollectAsync(IReadOnlyList<string> services)
        {
            var attempt = 0;
            while (DataRights.Missing(S, services) is { Count: > 0 } missing)
            {
                attempt++;
                await CallAsync<bool>(nameof(AskForDataActivity), new DataAsk(input.RequestId, input.Kind, input.AccountId, missing, attempt));
                var step = $"asked {string.Join(", ", missing)} (attempt {attempt})";
                Show(DataRights.Asked(S, missing, step));
                OrchestratorLog.DataRequestStep(_log, input.RequestId, input.Kind, step);
                var deadline = Now + input.Timings.Poll(attempt);
                while (DataRights.Missing(S, services).Count > 0 && await NextReportAsync(deadline) is { } report)
                {
                    Show(DataRights.Record(S, report, Now));
                }
            }
        }

        /// <summary>Runs an activity until it succeeds: each failure is shown and retried after the backoff.</summary>
        public Task<T> CallAsync<T>(string activity, object activityInput) =>
            ctx.CallUntilDoneAsync<T>(activity, activityInput, error =>
            {
                Show(DataRights.Failed(S, error));
                OrchestratorLog.DataRequestFailed(_log, input.RequestId, S.Failures, error);
                return Now + input.Timings.Backoff(S.Failures);
            });

        private Task<DataReported?> NextReportAsync(DateTimeOffset deadline) => ctx.NextEventAsync<DataReported>(ReportEvent, deadline);
    }
}

/// <summary>One ask: the request, the services asked this time, the attempt.</summary>
public sealed record DataAsk(string RequestId, string Kind, string AccountId, IReadOnlyList<string> Services, long Seq);

/// <summary>An erasure every service has done: what the action log keeps (the request id, never the account).</summary>
public sealed record ErasureDone(string RequestId, DateTimeOffset At, IReadOnlyList<string> Services);
