using Dapr.Actors;
using Dapr.Actors.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Orchestrator.Actors;
using FanVote.ServiceDefaults.Auth;
using FanVote.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FanVote.Orchestrator;

/// <summary>
/// The operator API, for operators only (the operator key in X-Operator-Key, checked by the shared operator scheme): create a window, read its status (each step with time
/// and outcome, the step under way), its audit report and its certified result.
/// </summary>
public static class OperatorApi
{
    public sealed record CreateWindowRequest(
        string? WindowId, string? Title, IReadOnlyList<string>? Candidates, DateTimeOffset? OpensAt, DateTimeOffset? ClosesAt, int? VotesPerAccount, PayoutRules? Rewards,
        bool? StepByStep);

    public static WebApplication MapOperatorApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var windows = app.MapGroup("/v1/windows").RequireOperator();
        windows.MapPost("", CreateAsync).WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(64 * 1024));
        windows.MapGet("/{windowId:id}", GetAsync);
        windows.MapPost("/{windowId:id}/continue", ContinueAsync);
        windows.MapGet("/{windowId:id}/audit", async (string windowId) => await FromCertifiedAsync(windowId, s => AuditReport.From(s.Certified!)));
        windows.MapGet("/{windowId:id}/certified", async (string windowId) => await FromCertifiedAsync(windowId, s => s.Certified!));
        return app;
    }

    private static async Task<Results<Created<WindowStatus>, Ok<WindowStatus>, ProblemHttpResult, ValidationProblem>> CreateAsync(
        CreateWindowRequest body, TimeProvider time, IConfiguration config)
    {
        var definition = new WindowDefinition(
            body.WindowId ?? "", body.Title ?? "", body.Candidates ?? [],
            body.OpensAt ?? default, body.ClosesAt ?? default, body.VotesPerAccount ?? 0, body.Rewards);
        var errors = definition.Validate(time.GetUtcNow());
        if (body.OpensAt is null)
        {
            errors = new Dictionary<string, string[]>(errors) { ["opensAt"] = ["Give opensAt as an ISO-8601 UTC time."] };
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The window definition has mistakes; fix the fields listed in 'errors' and send it again.");
        }

        var result = await Proxy(definition.WindowId).InvokeMethodAsync<CreateWindow, CreateResult>(
            nameof(IWindowActor.CreateAsync), new CreateWindow(definition, body.StepByStep ?? false));
        if (result.Invalid is { Count: > 0 } invalid)
        {
            return TypedResults.ValidationProblem(invalid, detail: "The window definition has mistakes; fix the fields listed in 'errors' and send it again.");
        }

        if (result.Conflict)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Window already exists",
                detail: $"A window with id '{definition.WindowId}' already exists with a different definition. Choose another id, or send exactly the same definition to get its status.");
        }

        return result.Created
            ? TypedResults.Created($"/v1/windows/{definition.WindowId}", result.Status!)
            : TypedResults.Ok(result.Status!);
    }

    private static async Task<Results<Ok<WindowStatus>, ProblemHttpResult>> GetAsync(string windowId)
    {
        var status = await Proxy(windowId).InvokeMethodAsync<WindowStatus?>(nameof(IWindowActor.GetAsync));
        return status is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown window", detail: $"No window with id '{windowId}' exists. Create it with POST /v1/windows.")
            : TypedResults.Ok(status);
    }

    /// <summary>Step-by-step windows: the held window starts its next step.</summary>
    private static async Task<Results<Ok<WindowStatus>, ProblemHttpResult>> ContinueAsync(string windowId)
    {
        var before = await Proxy(windowId).InvokeMethodAsync<WindowStatus?>(nameof(IWindowActor.GetAsync));
        if (before is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown window", detail: $"No window with id '{windowId}' exists. Create it with POST /v1/windows.");
        }

        if (!before.Held)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not waiting",
                detail: $"Window '{windowId}' is not waiting for a go ({(before.StepByStep ? "its current step is already under way" : "it was not created with stepByStep: true")}); nothing to continue.");
        }

        return TypedResults.Ok((await Proxy(windowId).InvokeMethodAsync<WindowStatus?>(nameof(IWindowActor.ContinueAsync)))!);
    }

    private static async Task<Results<Ok<T>, ProblemHttpResult>> FromCertifiedAsync<T>(string windowId, Func<WindowStatus, T> pick)
    {
        var status = await Proxy(windowId).InvokeMethodAsync<WindowStatus?>(nameof(IWindowActor.GetAsync));
        if (status is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown window", detail: $"No window with id '{windowId}' exists. Create it with POST /v1/windows.");
        }

        return status.Certified is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not certified yet",
                detail: $"Window '{windowId}' is {status.Phase}; its result is certified after the drain and the audit. Watch GET /v1/windows/{windowId} for the step under way.")
            : TypedResults.Ok(pick(status));
    }

    private static ActorProxy Proxy(string windowId) =>
        ActorProxy.Create(new ActorId(windowId), nameof(WindowActor), new ActorProxyOptions { JsonSerializerOptions = FanVoteJson.Options });
}
