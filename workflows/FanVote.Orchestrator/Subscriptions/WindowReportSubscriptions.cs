using System.Globalization;
using Dapr.Workflow;
using FanVote.ActionLog;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Orchestrator.ActionLog;
using FanVote.Orchestrator.Lifecycle;
using FanVote.Orchestrator.Watch;
using FanVote.ServiceDefaults;
using FanVote.Workflows;
using Grpc.Core;

namespace FanVote.Orchestrator;

/// <summary>
/// `window-reports` (routed on the CloudEvent type): each answer is raised as a "report" event on its window's workflow,
/// which records it (checked by <see cref="WindowLifecycle"/>.Record) and moves on. A report for a window that does not
/// exist is dropped (200); a failed hand-over answers 500, so the sidecar redelivers; the same report twice changes nothing.
/// Answers to an operator's watch (<c>Watch</c> set) are kept by the <see cref="WindowWatchBook"/> instead: the drain never sees them.
/// </summary>
public static class WindowReportSubscriptions
{
    public static WebApplication MapWindowReportSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-reports/accepted", async (AcceptedVotesReported e, DaprWorkflowClient workflows, WindowWatchBook watch, ILoggerFactory logs, CancellationToken ct) =>
            e.Watch ? await KeepAsync(logs, e.WindowId, () => watch.RecordAsync(e, ct)) : await Deliver(workflows, logs, e.WindowId, new WindowReport(Accepted: e), ct))
            .ForEventType(Topics.WindowReports, EventTypes.AcceptedVotesReported);
        app.MapPost("/window-reports/persisted", async (PersistedVotesReported e, DaprWorkflowClient workflows, WindowWatchBook watch, ILoggerFactory logs, CancellationToken ct) =>
            e.Watch ? await KeepAsync(logs, e.WindowId, () => watch.RecordAsync(e, ct)) : await Deliver(workflows, logs, e.WindowId, new WindowReport(Persisted: e), ct))
            .ForEventType(Topics.WindowReports, EventTypes.PersistedVotesReported);
        app.MapPost("/window-reports/audited", (WindowAudited e, DaprWorkflowClient workflows, ILoggerFactory logs, CancellationToken ct) =>
            Deliver(workflows, logs, e.WindowId, new WindowReport(Audited: e), ct)).ForEventType(Topics.WindowReports, EventTypes.WindowAudited);
        app.MapPost("/window-reports/paid", (RewardsPaid e, DaprWorkflowClient workflows, DaprActionLog actions, TimeProvider time, ILoggerFactory logs, CancellationToken ct) =>
            Deliver(workflows, logs, e.WindowId, new WindowReport(Paid: e), ct, () => actions.AppendAsync(Payout(e, time), ct)))
            .ForEventType(Topics.WindowReports, EventTypes.RewardsPaid);
        // Fraud's model switch goes to the action log (a failed append answers 500: redelivered, logged once by its id).
        app.MapPost("/window-reports/model", async (ModelActivated e, DaprActionLog actions, CancellationToken ct) =>
        {
            await actions.AppendAsync(ModelInUse(e), ct);
            return TypedResults.Ok();
        }).ForEventType(Topics.WindowReports, EventTypes.ModelActivated);
        // Each app's keys (a malformed report logs nothing and is not redelivered; a failed append answers 500: redelivered, logged once by id).
        app.MapPost("/window-reports/keys", async (KeysInUse e, KeysInUseLog keys, ILoggerFactory logs, CancellationToken ct) =>
        {
            if (!await keys.AppendAsync(e, "pubsub:" + Topics.WindowReports, ct))
            {
                OrchestratorLog.KeysReportDropped(logs.CreateLogger(typeof(WindowReportSubscriptions)), Ids.IsValid(e.App) ? e.App : "(invalid)");
            }

            return TypedResults.Ok();
        }).ForEventType(Topics.WindowReports, EventTypes.KeysInUse);
        app.MapIgnoredEvents(Topics.WindowReports);
        return app;
    }

    /// <summary>An answer to an operator's watch goes to the <see cref="WindowWatchBook"/>, not to the workflow (a failed write answers 500: redelivered).</summary>
    private static Task<IResult> KeepAsync(ILoggerFactory logs, string windowId, Func<Task> record) =>
        HandOverAsync(logs, windowId, _ => record());

    /// <summary>Raises the report on the window's workflow; then, for a window that exists, <paramref name="delivered"/> (the payout's action log row).</summary>
    private static Task<IResult> Deliver(DaprWorkflowClient workflows, ILoggerFactory logs, string windowId, WindowReport report, CancellationToken ct, Func<Task>? delivered = null) =>
        HandOverAsync(logs, windowId, async log =>
        {
            try
            {
                await workflows.RaiseEventAsync(windowId, WindowLifecycleWorkflow.ReportEvent, report, ct);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
            {
                OrchestratorLog.ReportDropped(log, windowId);
                return;
            }

            if (delivered is not null)
            {
                await delivered();
            }
        });

    /// <summary>Fraud's model switch, logged once per announcement (its event id: a redelivery finds it logged).</summary>
    private static ActionDraft ModelInUse(ModelActivated e) => new(
        $"{Actions.ModelActivate}:{e.EventId:N}", e.OccurredAt, "service:" + AppIds.Fraud, Actions.ModelActivate, e.Version, "in use",
        "pubsub:" + Topics.WindowReports,
        new Dictionary<string, string>
        {
            ["previous"] = e.Previous ?? "",
            ["algorithm"] = e.Algorithm,
            ["threshold"] = e.Threshold.ToString("R", CultureInfo.InvariantCulture),
            ["instance"] = e.Instance,
        });

    /// <summary>A payout is logged once per window (its id), by rewards, whose report it is; every redelivery finds it logged.</summary>
    private static ActionDraft Payout(RewardsPaid e, TimeProvider time) => new(
        $"{Actions.WindowPayout}:{e.WindowId}", time.GetUtcNow(), "service:" + AppIds.Rewards, Actions.WindowPayout, e.WindowId, "paid",
        "pubsub:" + Topics.WindowReports,
        new Dictionary<string, string>
        {
            ["accounts"] = e.Accounts.ToString(CultureInfo.InvariantCulture),
            ["points"] = e.Points.ToString(CultureInfo.InvariantCulture),
            ["withoutConsent"] = e.WithoutConsent.ToString(CultureInfo.InvariantCulture),
            ["ledgerEntries"] = e.Entries.ToString(CultureInfo.InvariantCulture),
            ["ledgerHeadSeq"] = e.LedgerHeadSeq.ToString(CultureInfo.InvariantCulture),
            ["ledgerHeadHash"] = e.LedgerHeadHash,
            ["votersDigest"] = e.VotersDigest,
        });

    /// <summary>A report for a window id no window can have is dropped (200, logged); any other is handed over (an exception answers 500).</summary>
    private static async Task<IResult> HandOverAsync(ILoggerFactory logs, string windowId, Func<ILogger, Task> handOver)
    {
        var log = logs.CreateLogger(typeof(WindowReportSubscriptions));
        if (!Ids.IsValid(windowId))
        {
            OrchestratorLog.ReportDropped(log, "(invalid id)");
            return TypedResults.Ok();
        }

        await handOver(log);
        return TypedResults.Ok();
    }
}
