using Dapr.Workflow;
using FanVote.Contracts.Events;
using FanVote.Orchestrator.Privacy;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using FanVote.Workflows;
using Grpc.Core;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FanVote.Orchestrator;

/// <summary>
/// A fan's rights over their data (the signed-in fan's session token, checked locally like every fan route; no consent
/// purpose is needed for these): <c>GET /v1/me/data</c> (a copy of everything FanVote holds about the account),
/// <c>DELETE /v1/me</c> (erase it; one erasure per account, asking again shows the first), <c>GET /v1/me/erasure</c>, and
/// <c>GET /v1/erasures/{requestId}</c> for whoever holds the request id (the account is gone once the erasure is done,
/// and with it the sessions; the id is a hash of the account id, the status names no one). Each request is a
/// <see cref="DataRightsWorkflow"/>; the reports come back on `data-reports`.
/// </summary>
public static class FanDataApi
{
    /// <summary>How long GET /v1/me/data waits for a fresh export before answering 202 (poll again).</summary>
    public static readonly TimeSpan ExportWait = TimeSpan.FromSeconds(10);

    public static WebApplication MapFanDataApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1/me/data", ExportAsync).RequireFan().WithTags("Your data")
            .WithSummary("A copy of everything FanVote holds about you (JSON)")
            .WithDescription("Asks every service for its part: 200 with the copy once all answered (it stays ready for an hour; ask again later for a fresh one), else 202 with the progress and Retry-After: call again.")
            .Produces<DataRightsStatus>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        app.MapDelete("/v1/me", EraseAsync).RequireFan().WithTags("Your data")
            .WithSummary("Erase your account and the personal data FanVote holds about you")
            .WithDescription("Starts the erasure (202 with its request id and status; asking again answers with the same one). Ingress first unlinks the account from your device or contact and stops its sessions; then tally, fraud, rewards and results erase or pseudonymize their parts. Counts, certified results, receipts and the points ledger stay verifiable: they keep the account's random id, which no longer leads to you. Follow it at GET /v1/erasures/{requestId}.")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        app.MapGet("/v1/me/erasure", MyErasureAsync).RequireFan().WithTags("Your data")
            .WithSummary("Your erasure's progress")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/erasures/{requestId:id}", ErasureAsync).AllowAnonymous().WithTags("Your data")
            .WithSummary("An erasure's progress, by its request id (no sign-in: the account is gone once it is done)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Results<Ok<Dictionary<string, object?>>, Accepted<DataRightsStatus>, ProblemHttpResult>> ExportAsync(
        HttpContext ctx, DaprWorkflowClient workflows, DataRightsTimings timings, TimeProvider time, CancellationToken ct)
    {
        var account = ctx.Fan().AccountId;
        if (NotAnAccount(account) is { } notOne)
        {
            return notOne;
        }

        var id = DataRights.ExportId(account);
        if (await ReadAsync(workflows, DataRights.ErasureId(account), ct) is not null)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "Account erased", "You asked for this account to be erased: there is nothing to export. Follow the erasure at GET /v1/me/erasure.");
        }

        var status = await ReadAsync(workflows, id, ct);
        if (status is null || status.State == DataRightsStatus.ExpiredState)
        {
            if (status is not null)
            {
                await workflows.PurgeInstanceAsync(id, ct);
            }

            await StartAsync(workflows, new DataRequest(id, DataRequestKinds.Export, account, time.GetUtcNow(), timings), ct);
        }

        var deadline = time.GetUtcNow() + ExportWait;
        status = await ReadAsync(workflows, id, ct);
        while (status is not { State: DataRightsStatus.Done } && time.GetUtcNow() < deadline)
        {
            await Task.Delay(200, ct);
            status = await ReadAsync(workflows, id, ct);
        }

        if (status is { State: DataRightsStatus.Done, Export: { } parts })
        {
            ctx.Response.Headers.CacheControl = "no-store";
            return TypedResults.Ok(new Dictionary<string, object?>
            {
                ["accountId"] = account,
                ["preparedAt"] = status.DoneAt,
                ["availableUntil"] = status.ExpiresAt,
                ["services"] = parts,
            });
        }

        ctx.Response.Headers.RetryAfter = "5";
        return TypedResults.Accepted((string?)null, status ?? Placeholder(id, DataRequestKinds.Export, time));
    }

    private static async Task<Results<Accepted<DataRightsStatus>, ProblemHttpResult>> EraseAsync(
        HttpContext ctx, DaprWorkflowClient workflows, DataRightsTimings timings, TimeProvider time, CancellationToken ct)
    {
        var account = ctx.Fan().AccountId;
        if (NotAnAccount(account) is { } notOne)
        {
            return notOne;
        }

        var id = DataRights.ErasureId(account);
        if (await ReadAsync(workflows, id, ct) is null)
        {
            // An export still kept for download goes first: no copy of the data outlives the erasure.
            var export = DataRights.ExportId(account);
            if (await ReadAsync(workflows, export, ct) is { } copy)
            {
                if (copy.State != DataRightsStatus.ExpiredState)
                {
                    await workflows.TerminateWorkflowAsync(export, output: null, ct);
                    await workflows.WaitForWorkflowCompletionAsync(export, getInputsAndOutputs: false, ct);
                }

                await workflows.PurgeInstanceAsync(export, ct);
            }

            await StartAsync(workflows, new DataRequest(id, DataRequestKinds.Erase, account, time.GetUtcNow(), timings), ct);
        }

        var status = await ReadAsync(workflows, id, ct) ?? Placeholder(id, DataRequestKinds.Erase, time);
        return TypedResults.Accepted($"/v1/erasures/{id}", status.WithoutData());
    }

    private static async Task<Results<Ok<DataRightsStatus>, ProblemHttpResult>> MyErasureAsync(HttpContext ctx, DaprWorkflowClient workflows, CancellationToken ct) =>
        await ReadAsync(workflows, DataRights.ErasureId(ctx.Fan().AccountId), ct) is { } s
            ? TypedResults.Ok(s.WithoutData())
            : Problems.Of(StatusCodes.Status404NotFound, "No erasure", "You have not asked for this account to be erased (DELETE /v1/me does).");

    private static async Task<Results<Ok<DataRightsStatus>, ProblemHttpResult>> ErasureAsync(string requestId, DaprWorkflowClient workflows, CancellationToken ct) =>
        DataRights.IsErasureId(requestId) && await ReadAsync(workflows, requestId, ct) is { Kind: DataRequestKinds.Erase } s
            ? TypedResults.Ok(s.WithoutData())
            : Problems.Of(StatusCodes.Status404NotFound, "Unknown erasure", $"No erasure has the request id '{requestId}'. Use the id DELETE /v1/me answered with.");

    /// <summary>Starts the request's workflow; one started meanwhile by a concurrent call is as good.</summary>
    private static async Task StartAsync(DaprWorkflowClient workflows, DataRequest request, CancellationToken ct)
    {
        try
        {
            await workflows.ScheduleNewWorkflowAsync(nameof(DataRightsWorkflow), request.RequestId, request, startTime: null, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
        }
    }

    /// <summary>The request's status: its custom status, or the output once completed; null when there is no such request.</summary>
    internal static async Task<DataRightsStatus?> ReadAsync(DaprWorkflowClient workflows, string requestId, CancellationToken ct)
    {
        var state = await workflows.GetWorkflowStateAsync(requestId, getInputsAndOutputs: true, ct);
        return !state.Exists || state.WorkflowName != nameof(DataRightsWorkflow)
            ? null
            : (state.RuntimeStatus == WorkflowRuntimeStatus.Completed ? state.ReadOutputAs<DataRightsStatus>() : null) ?? state.ReadCustomStatusAs<DataRightsStatus>();
    }

    /// <summary>Before the worker has run the first turn: started, nothing asked yet.</summary>
    private static DataRightsStatus Placeholder(string id, string kind, TimeProvider time) =>
        new(id, kind, DataRightsStatus.Running, time.GetUtcNow(), null, "starting", [], null, 0, null, null);

    /// <summary>Sessions carry ingress's account ids; any other (a token made outside ingress) has no data anywhere to ask for.</summary>
    private static ProblemHttpResult? NotAnAccount(string account) =>
        FanDataRequests.IsAccountId(account) ? null
            : Problems.Of(StatusCodes.Status422UnprocessableEntity, "Not an account", "This session's account id is not one ingress makes, so no service holds data under it.");
}
