using Dapr.Workflow;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Orchestrator.Lifecycle;
using FanVote.ServiceDefaults;
using FanVote.Workflows;
using Grpc.Core;

namespace FanVote.Orchestrator;

/// <summary>
/// `window-reports` (routed on the CloudEvent type): each answer is raised as a "report" event on its window's workflow,
/// which records it (checked by <see cref="WindowLifecycle"/>.Record) and moves on. A report for a window that does not
/// exist is dropped (200); a failed hand-over answers 500, so the sidecar redelivers; the same report twice changes nothing.
/// </summary>
public static class WindowReportSubscriptions
{
    public static WebApplication MapWindowReportSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/window-reports/accepted", (AcceptedVotesReported e, DaprWorkflowClient workflows, ILoggerFactory logs, CancellationToken ct) =>
            Deliver(workflows, logs, e.WindowId, new WindowReport(Accepted: e), ct)).ForEventType(Topics.WindowReports, EventTypes.AcceptedVotesReported);
        app.MapPost("/window-reports/persisted", (PersistedVotesReported e, DaprWorkflowClient workflows, ILoggerFactory logs, CancellationToken ct) =>
            Deliver(workflows, logs, e.WindowId, new WindowReport(Persisted: e), ct)).ForEventType(Topics.WindowReports, EventTypes.PersistedVotesReported);
        app.MapPost("/window-reports/audited", (WindowAudited e, DaprWorkflowClient workflows, ILoggerFactory logs, CancellationToken ct) =>
            Deliver(workflows, logs, e.WindowId, new WindowReport(Audited: e), ct)).ForEventType(Topics.WindowReports, EventTypes.WindowAudited);
        app.MapPost("/window-reports/paid", (RewardsPaid e, DaprWorkflowClient workflows, ILoggerFactory logs, CancellationToken ct) =>
            Deliver(workflows, logs, e.WindowId, new WindowReport(Paid: e), ct)).ForEventType(Topics.WindowReports, EventTypes.RewardsPaid);
        app.MapIgnoredEvents(Topics.WindowReports);
        return app;
    }

    private static async Task<IResult> Deliver(DaprWorkflowClient workflows, ILoggerFactory logs, string windowId, WindowReport report, CancellationToken ct)
    {
        if (!Ids.IsValid(windowId))
        {
            var log = logs.CreateLogger(typeof(WindowReportSubscriptions));
            OrchestratorLog.ReportDropped(log, "(invalid id)");
            return TypedResults.Ok();
        }

        try
        {
            await workflows.RaiseEventAsync(windowId, WindowLifecycleWorkflow.ReportEvent, report, ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            var log = logs.CreateLogger(typeof(WindowReportSubscriptions));
            OrchestratorLog.ReportDropped(log, windowId);
        }

        return TypedResults.Ok();
    }
}
