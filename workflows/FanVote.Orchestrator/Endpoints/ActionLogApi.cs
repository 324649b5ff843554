using FanVote.ActionLog;
using FanVote.Orchestrator.ActionLog;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FanVote.Orchestrator;

/// <summary>
/// The operator action log through the operator API (the operator key, as every operator route): GET /v1/actions pages
/// through it oldest first, each row with its chain hashes, so `./fanvote actions verify` can check it with the key.
/// </summary>
public static class ActionLogApi
{
    /// <summary>A page of the log: <see cref="Head"/> is the last row's seq; <see cref="NextAfter"/> the <c>after</c> of the next page (null at the end).</summary>
    public sealed record ActionPage(long Head, IReadOnlyList<ActionRecord> Actions, long? NextAfter);

    public const int DefaultLimit = 100;

    public static WebApplication MapActionLogApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1/actions", ReadAsync).RequireOperator().WithTags("Action log")
            .WithSummary("The operator action log, oldest first: who did what to which window, when, from where, with its outcome")
            .WithDescription($"Rows after `after` (default 0), at most `limit` (1-{DaprActionLog.MaxPage}, default {DefaultLimit}); `nextAfter` pages on. Each row carries its keyed chain hashes: `./fanvote actions verify` checks them.")
            .ProducesValidationProblem();
        return app;
    }

    /// <summary>Who did it (the operator's name) and from where (the connection's address): what every operator action is logged with.</summary>
    public static ActionDraft Draft(HttpContext ctx, TimeProvider time, string id, string action, string target, string outcome, IReadOnlyDictionary<string, string> detail)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(time);
        return new ActionDraft(id, time.GetUtcNow(), ctx.OperatorName(), action, target, outcome, ctx.ClientAddress(), detail);
    }

    private static async Task<Results<Ok<ActionPage>, ValidationProblem>> ReadAsync(long? after, int? limit, DaprActionLog actions, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (after is < 0)
        {
            errors["after"] = ["Give after as 0 or the seq of the last row you have."];
        }

        if (limit is < 1 or > DaprActionLog.MaxPage)
        {
            errors["limit"] = [$"Give limit between 1 and {DaprActionLog.MaxPage}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The paging parameters are out of range; fix the ones listed in 'errors'.");
        }

        var from = after ?? 0;
        var (head, rows) = await actions.ReadAsync(from, limit ?? DefaultLimit, ct);
        var last = Math.Min(head, from + (limit ?? DefaultLimit));
        return TypedResults.Ok(new ActionPage(head, rows, last < head ? last : null));
    }
}
