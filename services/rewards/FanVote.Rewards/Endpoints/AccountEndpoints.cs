using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FanVote.Rewards;

/// <summary>
/// The signed-in fan's points: `GET /v1/me/balance` and `GET /v1/me/statement?before=SEQ&amp;limit=N` (newest first,
/// each line with the balance after it), for signed-in fans: the session scheme checks the token ingress issued with the
/// same keys, and the account is the token's.
/// </summary>
public static class AccountEndpoints
{
    public sealed record BalanceResponse(string AccountId, long Balance);

    public sealed record StatementResponse(string AccountId, long Balance, IReadOnlyList<StatementLine> Entries, long? NextBefore);

    public static WebApplication MapAccountEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1/me/balance", BalanceAsync).RequireFan(Purposes.Rewards, "Your points")
            .WithTags("Points").WithSummary("The signed-in fan's points balance");
        app.MapGet("/v1/me/statement", StatementAsync).RequireFan(Purposes.Rewards, "Your points")
            .WithTags("Points").WithSummary("The signed-in fan's points statement, newest first")
            .WithDescription("Each line carries the balance after it. Page with before = the previous page's nextBefore; limit caps the lines per page.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<Ok<BalanceResponse>> BalanceAsync(HttpContext ctx, PostgresPointsLedger ledger, CancellationToken ct)
    {
        var fan = ctx.Fan();
        return TypedResults.Ok(new BalanceResponse(fan.AccountId, await ledger.BalanceAsync(Accounts.Fan(fan.AccountId), ct)));
    }

    private static async Task<Results<Ok<StatementResponse>, ProblemHttpResult>> StatementAsync(
        HttpContext ctx, long? before, int? limit, PostgresPointsLedger ledger, IOptions<RewardsOptions> options, CancellationToken ct)
    {
        var claims = ctx.Fan();
        var max = options.Value.MaxStatementEntries;
        if (limit is < 1 || limit > max)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Bad limit", $"limit must be between 1 and {max}.");
        }

        if (before is < 1)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Bad before", "before is a statement line's seq (1 or more), as given in nextBefore.");
        }

        var account = Accounts.Fan(claims.AccountId);
        var take = limit ?? 50;
        var lines = await ledger.StatementAsync(account, before, take, ct);
        return TypedResults.Ok(new StatementResponse(claims.AccountId, await ledger.BalanceAsync(account, ct), lines, lines.Count == take ? lines[^1].Seq : null));
    }
}
