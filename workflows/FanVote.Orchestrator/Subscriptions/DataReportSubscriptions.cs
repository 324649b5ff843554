using Dapr;
using Dapr.Workflow;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Orchestrator.Privacy;
using FanVote.Workflows;
using Grpc.Core;

namespace FanVote.Orchestrator;

/// <summary>
/// `data-reports`: each service's answer to a fan's data request is raised as a "report" event on the request's
/// workflow, which records it (<see cref="DataRights"/>.Record). A report for a request that does not exist, or that no
/// request can have, is dropped (200, logged); a failed hand-over answers 500, so the sidecar redelivers; the same
/// report twice changes nothing. Only the five data holders may publish the topic (pub/sub scopes); the report's
/// service name is what the holder says it is (pub/sub scopes are per topic, not per field).
/// </summary>
public static class DataReportSubscriptions
{
    public static WebApplication MapDataReportSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/" + Topics.DataReports, async (DataReported e, DaprWorkflowClient workflows, ILoggerFactory logs, CancellationToken ct) =>
        {
            var log = logs.CreateLogger(typeof(DataReportSubscriptions));
            if (!DataRights.IsRequestId(e.RequestId))
            {
                OrchestratorLog.DataReportDropped(log, "(invalid id)");
                return TypedResults.Ok();
            }

            try
            {
                await workflows.RaiseEventAsync(e.RequestId, DataRightsWorkflow.ReportEvent, e, ct);
            }
            catch (RpcException x) when (x.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
            {
                OrchestratorLog.DataReportDropped(log, e.RequestId);
            }

            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.DataReports);
        return app;
    }
}
