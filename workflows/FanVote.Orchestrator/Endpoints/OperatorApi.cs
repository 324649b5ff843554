using Dapr.Workflow;
using FanVote.ActionLog;
using FanVote.Contracts.Events;
using FanVote.Orchestrator.ActionLog;
using FanVote.Orchestrator.Lifecycle;
using FanVote.Orchestrator.Watch;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using FanVote.Workflows;
using Grpc.Core;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FanVote.Orchestrator;

/// <summary>
/// The operator API, for operators only (the operator key in X-Operator-Key, checked by the shared operator scheme): create a window, read its status (each step with time
/// and outcome, the step under way), watch its queue depth and fraud triggers, its audit report and its certified result. Each window is a workflow instance
/// (<see cref="WindowLifecycleWorkflow"/>, instance id = window id) on <see cref="DaprWorkflowClient"/>: the status is
/// its custom status, a step-by-step window's go is its "continue" event.
/// </summary>
public static class OperatorApi
{
    public sealed record CreateWindowRequest(
        string? WindowId, string? Title, IReadOnlyList<string>? Candidates, DateTimeOffset? OpensAt, DateTimeOffset? ClosesAt, int? VotesPerAccount, PayoutRules? Rewards,
        bool? StepByStep);

    /// <summary>A line of the window list: what an operator scans for.</summary>
    public sealed record WindowSummary(string WindowId, string Title, string Phase, bool StepByStep, bool Held, DateTimeOffset OpensAt, DateTimeOffset ClosesAt);

    /// <summary>The list reads at most this many windows (one workflow-state read each).</summary>
    public const int ListLimit = 500;

    public static WebApplication MapOperatorApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var windows = app.MapGroup("/v1/windows").RequireOperator().WithTags("Windows");
        windows.MapPost("", CreateAsync).WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(64 * 1024))
            .WithSummary("Create and schedule a voting window")
            .WithDescription("Starts the window's lifecycle workflow (open, close, drain, audit, certify, pay out). Sending exactly the same definition again answers 200 with its status; a different definition under the same id is 409.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        windows.MapGet("", ListAsync)
            .WithSummary("Every window (up to 500), the latest opening first: id, title, phase, whether it waits for a go, its times");
        windows.MapGet("/{windowId:id}", GetAsync)
            .WithSummary("A window's phase, its steps with time and outcome, and the step under way")
            .ProducesProblem(StatusCodes.Status404NotFound);
        windows.MapGet("/{windowId:id}/watch", WatchAsync)
            .WithSummary("A window's queue depth and fraud triggers, for the console: accepted, in the ledger, in flight, flagged by reason")
            .WithDescription("Each call asks ingress and tally for the window's counts (at most once a second per window) and answers with the latest answers kept, each with the time it was read; poll it. Null counts: that service has not answered yet.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        windows.MapPost("/{windowId:id}/continue", ContinueAsync)
            .WithSummary("Let a step-by-step window start its next step")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        windows.MapGet("/{windowId:id}/audit", async (string windowId, DaprWorkflowClient workflows, CancellationToken ct) =>
            await FromCertifiedAsync(windowId, workflows, s => AuditReport.From(s.Certified!), ct))
            .WithSummary("A certified window's audit report")
            .ProducesProblem(StatusCodes.Status404NotFound);
        windows.MapGet("/{windowId:id}/certified", async (string windowId, DaprWorkflowClient workflows, CancellationToken ct) =>
            await FromCertifiedAsync(windowId, workflows, s => s.Certified!, ct))
            .WithSummary("A window's certified result")
            .ProducesProblem(StatusCodes.Status404NotFound);
        MapConsole(app);
        return app;
    }

    private static readonly Lazy<byte[]> ConsolePage = EmbeddedPage.Of(typeof(OperatorApi).Assembly, "FanVote.Orchestrator.Console.index.html");

    /// <summary>
    /// The operator console (GET /console): a page anyone may load, since it holds nothing; it asks for the operator key
    /// and sends it on each call to the operator API above, which checks it. Not framable (clickjacking).
    /// </summary>
    private static void MapConsole(WebApplication app) =>
        app.MapGet("/console", (HttpContext ctx) =>
        {
            ctx.Response.Headers.XFrameOptions = "DENY";
            ctx.Response.Headers.CacheControl = "no-store";
            return TypedResults.Bytes(ConsolePage.Value, "text/html; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();

    private static async Task<Results<Created<WindowStatus>, Ok<WindowStatus>, ProblemHttpResult, ValidationProblem>> CreateAsync(
        CreateWindowRequest body, HttpContext ctx, TimeProvider time, DaprWorkflowClient workflows, LifecycleTimings timings, WindowLocks locks, DaprActionLog actions,
        ILoggerFactory logs, CancellationToken ct)
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

        var run = new WindowRun(definition, body.StepByStep ?? false, timings);
        using (await locks.AcquireAsync(definition.WindowId, ct))
        {
            // Never schedule over an existing instance: Dapr would restart a finished window under the same id.
            var existing = await workflows.GetWorkflowStateAsync(definition.WindowId, getInputsAndOutputs: true, ct);
            var created = false;
            if (!existing.Exists)
            {
                try
                {
                    await workflows.ScheduleNewWorkflowAsync(nameof(WindowLifecycleWorkflow), definition.WindowId, run, startTime: null, ct);
                    created = true;
                    var log = logs.CreateLogger(typeof(OperatorApi));
                    OrchestratorLog.WindowCreated(log, definition.WindowId, definition.OpensAt, definition.ClosesAt);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
                {
                    // Created meanwhile (another replica): judged as an existing window below.
                }

                existing = await workflows.GetWorkflowStateAsync(definition.WindowId, getInputsAndOutputs: true, ct);
            }

            if (!created)
            {
                var theirs = existing.WorkflowName == nameof(WindowLifecycleWorkflow) ? existing.ReadInputAs<WindowRun>() : null;
                if (theirs is null || !theirs.Definition.SameAs(definition) || theirs.StepByStep != run.StepByStep)
                {
                    await actions.AppendAsync(ActionLogApi.Draft(ctx, time, Guid.NewGuid().ToString("N"), Actions.WindowCreate, definition.WindowId,
                        "refused: a window with this id exists with another definition", Described(definition, run.StepByStep)), ct);
                    return TypedResults.Problem(
                        statusCode: StatusCodes.Status409Conflict,
                        title: "Window already exists",
                        detail: $"A window with id '{definition.WindowId}' already exists with a different definition. Choose another id, or send exactly the same definition to get its status.");
                }
            }

            // Logged once per window (the id), also when this is a repeat of the same definition: a creation whose log
            // write failed after the workflow was scheduled is logged by the operator's retry.
            await actions.AppendAsync(ActionLogApi.Draft(ctx, time, $"{Actions.WindowCreate}:{definition.WindowId}", Actions.WindowCreate, definition.WindowId,
                "created", Described(definition, run.StepByStep)), ct);
            var status = StatusOf(existing) ?? WindowStatus.From(WindowLifecycle.Create(definition, time.GetUtcNow(), run.StepByStep, auditNonce: ""));
            return created
                ? TypedResults.Created($"/v1/windows/{definition.WindowId}", status)
                : TypedResults.Ok(status);
        }
    }

    private static async Task<Ok<List<WindowSummary>>> ListAsync(DaprWorkflowClient workflows, CancellationToken ct)
    {
        var list = new List<WindowSummary>();
        string? token = null;
        var read = 0;
        do
        {
            var page = await workflows.ListInstanceIdsAsync(token, 100, ct);
            foreach (var id in page.InstanceIds)
            {
                if (++read > ListLimit)
                {
                    break;
                }

                if (await ReadAsync(workflows, id, ct) is { } s)
                {
                    list.Add(new WindowSummary(s.WindowId, s.Title, s.Phase, s.StepByStep, s.Held, s.OpensAt, s.ClosesAt));
                }
            }

            token = page.ContinuationToken;
        }
        while (token is not null && read < ListLimit);

        list.Sort((a, b) => b.OpensAt.CompareTo(a.OpensAt));
        return TypedResults.Ok(list);
    }

    private static async Task<Results<Ok<WindowStatus>, ProblemHttpResult>> GetAsync(string windowId, DaprWorkflowClient workflows, CancellationToken ct)
    {
        var status = await ReadAsync(workflows, windowId, ct);
        return status is null ? Unknown(windowId) : TypedResults.Ok(status);
    }

    /// <summary>The watch of a window that exists: ask for fresh counts (answers arrive on `window-reports` within the next polls), answer with the latest kept.</summary>
    private static async Task<Results<Ok<WindowWatch>, ProblemHttpResult>> WatchAsync(string windowId, DaprWorkflowClient workflows, WindowWatchBook watch, CancellationToken ct)
    {
        if (await ReadAsync(workflows, windowId, ct) is null)
        {
            return Unknown(windowId);
        }

        await watch.AskAsync(windowId, ct);
        return TypedResults.Ok(await watch.ReadAsync(windowId, ct));
    }

    /// <summary>Step-by-step windows: the held window starts its next step (the go is an external event on its workflow).</summary>
    private static async Task<Results<Ok<WindowStatus>, ProblemHttpResult>> ContinueAsync(
        string windowId, HttpContext ctx, TimeProvider time, DaprWorkflowClient workflows, WindowLocks locks, DaprActionLog actions, CancellationToken ct)
    {
        using (await locks.AcquireAsync(windowId, ct))
        {
            var before = await ReadAsync(workflows, windowId, ct);
            if (before is null)
            {
                return Unknown(windowId);
            }

            if (!before.Held)
            {
                await actions.AppendAsync(ActionLogApi.Draft(ctx, time, Guid.NewGuid().ToString("N"), Actions.WindowContinue, windowId,
                    "refused: not waiting for a go", new Dictionary<string, string> { ["phase"] = before.Phase }), ct);
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not waiting",
                    detail: $"Window '{windowId}' is not waiting for a go ({(before.StepByStep ? "its current step is already under way" : "it was not created with stepByStep: true")}); nothing to continue.");
            }

            // Logged before the go is raised (one row per held phase: a retried call is logged once), so no step starts unlogged.
            await actions.AppendAsync(ActionLogApi.Draft(ctx, time, $"{Actions.WindowContinue}:{windowId}:{before.Phase}", Actions.WindowContinue, windowId,
                "continued", new Dictionary<string, string> { ["phase"] = before.Phase }), ct);
            await workflows.RaiseEventAsync(windowId, WindowLifecycleWorkflow.ContinueEvent, new WindowGo(Enum.Parse<WindowPhase>(before.Phase)), ct);

            // Answer once the workflow has taken the go (so a second continue is judged on the released window); if the
            // worker is slow to take it (restarting), answer with what is known: the go is stored and will be taken.
            var after = before;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (after is { Held: true } && after.Phase == before.Phase && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
                after = await ReadAsync(workflows, windowId, ct) ?? before;
            }

            return TypedResults.Ok(after);
        }
    }

    private static async Task<Results<Ok<T>, ProblemHttpResult>> FromCertifiedAsync<T>(string windowId, DaprWorkflowClient workflows, Func<WindowStatus, T> pick, CancellationToken ct)
    {
        var status = await ReadAsync(workflows, windowId, ct);
        if (status is null)
        {
            return Unknown(windowId);
        }

        return status.Certified is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not certified yet",
                detail: $"Window '{windowId}' is {status.Phase}; its result is certified after the drain and the audit. Watch GET /v1/windows/{windowId} for the step under way.")
            : TypedResults.Ok(pick(status));
    }

    /// <summary>What the action log keeps of a window definition.</summary>
    private static Dictionary<string, string> Described(WindowDefinition d, bool stepByStep) => new()
    {
        ["title"] = d.Title,
        ["candidates"] = string.Join(",", d.Candidates),
        ["opensAt"] = d.OpensAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["closesAt"] = d.ClosesAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["votesPerAccount"] = d.VotesPerAccount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["stepByStep"] = stepByStep ? "true" : "false",
    };

    private static ProblemHttpResult Unknown(string windowId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown window", detail: $"No window with id '{windowId}' exists. Create it with POST /v1/windows.");

    /// <summary>The window's status from its workflow (custom status, or the output once completed); null when there is no such window.</summary>
    private static async Task<WindowStatus?> ReadAsync(DaprWorkflowClient workflows, string windowId, CancellationToken ct) =>
        StatusOf(await workflows.GetWorkflowStateAsync(windowId, getInputsAndOutputs: true, ct));

    private static WindowStatus? StatusOf(WorkflowState state) =>
        !state.Exists || state.WorkflowName != nameof(WindowLifecycleWorkflow)
            ? null
            : state.ReadCustomStatusAs<WindowStatus>() ?? (state.RuntimeStatus == WorkflowRuntimeStatus.Completed ? state.ReadOutputAs<WindowStatus>() : null);
}
