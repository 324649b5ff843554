using FanVote.Ingress.Core;
using FanVote.Ingress.Risk;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FanVote.Ingress;

/// <summary>
/// `POST /v1/challenges/{id}` with <c>{"answer":"..."}</c> and the fan's token: a right answer lifts the verdict for its
/// subject on every ingress instance (and it stays lifted even if the same verdict is delivered again). Only the
/// challenged account, or a session on the challenged device, can answer it.
/// </summary>
public static class ChallengeEndpoints
{
    public sealed record ChallengeAnswer(string? Answer);

    public static WebApplication MapChallengeEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/v1/challenges/{challengeId:guid}", AnswerAsync);
        return app;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> AnswerAsync(
        Guid challengeId, ChallengeAnswer? body, HttpContext ctx, IngressKeys keys, VerdictCache cache, RedisVerdictStore store,
        IChallengeVerifier verifier, IngressMetrics metrics, TimeProvider time)
    {
        var auth = ctx.Request.Headers.Authorization.ToString();
        var tokenError = keys.Tokens.Validate(auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null, out var claims);
        if (tokenError != TokenError.None)
        {
            ctx.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem(StatusCodes.Status401Unauthorized, "Not signed in", SessionTokens.Explain(tokenError));
        }

        if (cache.WasPassed(challengeId))
        {
            return TypedResults.NoContent(); // answered already (a retry, or another tab)
        }

        var verdict = cache.FindChallenge(challengeId, claims!.AccountId, RiskGate.DeviceOf(ctx, claims), time.GetUtcNow());
        if (verdict is null)
        {
            return Problem(StatusCodes.Status404NotFound, "No such challenge",
                "This challenge does not exist for your account or device, or it has lapsed. Vote again: if a check is still needed you get a new one.");
        }

        if (string.IsNullOrWhiteSpace(body?.Answer) || body.Answer.Length > 4096)
        {
            return Problem(StatusCodes.Status400BadRequest, "No answer", "Send the answer to the challenge as {\"answer\":\"...\"}.");
        }

        if (!await verifier.VerifyAsync(challengeId, body.Answer, ctx.RequestAborted))
        {
            metrics.Challenge("failed", verdict.Reasons);
            return Problem(StatusCodes.Status422UnprocessableEntity, "Wrong answer", "That answer is not right. Try the challenge again.");
        }

        cache.Pass(verdict.SubjectKind, verdict.Subject, challengeId, verdict.ExpiresAt);
        await store.PassAsync(verdict);
        metrics.Challenge("passed", verdict.Reasons);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
