using FanVote.Ingress.Core;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FanVote.Rewards;

/// <summary>
/// The signed-in fan's points: `GET /v1/me/balance` and `GET /v1/me/statement?before=SEQ&amp;limit=N` (newest first,
/// each line with the balance after it). The token is the one ingress issued, checked here with the same keys.
/// </summary>
public static class AccountEndpoints
{
    public sealed record BalanceResponse(string AccountId, long Balance);

    public sealed record StatementResponse(string AccountId, long Balance, IReadOnlyList<StatementLine> Entries, long? NextBefore);

    public static WebApplication MapAccountEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1/me/balance", BalanceAsync);
        app.MapGet("/v1/me/statement", StatementAsync);
        return app;
    }

    private static async Task<Results<Ok<BalanceResponse>, ProblemHttpResult>> BalanceAsync(HttpContext ctx, SessionTokens tokens, PostgresPointsLedger ledger, CancellationToken ct)
    {
        if (SignedIn(ctx, tokens, out var claims) is { } problem)
        {
            return problem;
        }

        return TypedResults.Ok(new BalanceResponse(claims!.AccountId, await ledger.BalanceAsync(Accounts.Fan(claims.AccountId), ct)));
    }

    private static async Task<Results<Ok<StatementResponse>, ProblemHttpResult>> StatementAsync(
        HttpContext ctx, long? before, int? limit, SessionTokens tokens, PostgresPointsLedger ledger, IOptions<RewardsOptions> options, CancellationToken ct)
    {
        if (SignedIn(ctx, tokens, out var claims) is { } problem)
        {
            return problem;
        }

        var max = options.Value.MaxStatementEntries;
        if (limit is < 1 || limit > max)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad limit", detail: $"limit must be between 1 and {max}.");
        }

        var account = Accounts.Fan(claims!.AccountId);
        var take = limit ?? 50;
        var lines = await ledger.StatementAsync(account, before, take, ct);
        return TypedResults.Ok(new StatementResponse(claims.AccountId, await ledger.BalanceAsync(account, ct), lines, lines.Count == take ? lines[^1].Seq : null));
    }

    private static ProblemHttpResult? SignedIn(HttpContext ctx, SessionTokens tokens, out SessionClaims? claims)
    {
        var auth = ctx.Request.Headers.Authorization.ToString();
        var error = tokens.Validate(auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null, out claims);
        if (error == TokenError.None)
        {
            return null;
        }

        ctx.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Not signed in", detail: SessionTokens.Explain(error));
    }
}
