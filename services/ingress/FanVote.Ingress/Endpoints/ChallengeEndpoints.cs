using FanVote.Ingress.Core;
using FanVote.Ingress.Risk;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FanVote.Ingress;

/// <summary>
/// `POST /v1/challenges/{id}` with <c>{"answer":"..."}</c>, for signed-in fans: a right answer lifts the verdict for its
/// subject on every ingress instance (and it stays lifted even if the same verdict is delivered again). Only the
/// challenged account, or a session on the challenged device (the token's device), can answer it.
/// </summary>
public static class ChallengeEndpoints
{
    public sealed record ChallengeAnswer(string? Answer);

    public static WebApplication MapChallengeEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/v1/challenges/{challengeId:guid}", AnswerAsync).RequireFan(PurposeNames.NeededToVote, "Voting").RefuseErased().WithMetadata(new RequestSizeLimitAttribute(IngressOptions.MaxSmallBody))
            .WithTags("Voting").WithSummary("Answer the check a refused vote asked for")
            .WithDescription("A vote refused with 403 and a challengeId asks for this. A right answer lifts the check for the account or device; then vote again.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> AnswerAsync(
        Guid challengeId, ChallengeAnswer? body, HttpContext ctx, VerdictCache cache, RedisVerdictStore store,
        IChallengeVerifier verifier, IngressMetrics metrics, TimeProvider time)
    {
        if (cache.WasPassed(challengeId))
        {
            return TypedResults.NoContent(); // answered already (a retry, or another tab)
        }

        var fan = ctx.Fan();
        var verdict = cache.FindChallenge(challengeId, fan.AccountId, fan.DeviceId, time.GetUtcNow());
        if (verdict is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, "No such challenge",
                "This challenge does not exist for your account or device, or it has lapsed. Vote again: if a check is still needed you get a new one.");
        }

        if (string.IsNullOrWhiteSpace(body?.Answer) || body.Answer.Length > 2048)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "No answer", "Send the answer to the challenge as {\"answer\":\"...\"}.");
        }

        if (!await verifier.VerifyAsync(challengeId, body.Answer, ctx.Connection.RemoteIpAddress?.ToString() ?? "", ctx.RequestAborted))
        {
            metrics.Challenge("failed", verdict.Reasons.Count > 0 ? verdict.Reasons[0] : null);
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "Wrong answer", "That answer is not right. Try the challenge again.");
        }

        cache.Pass(verdict.SubjectKind, verdict.Subject, challengeId, verdict.ExpiresAt);
        await store.PassAsync(verdict);
        metrics.Challenge("passed", verdict.Reasons.Count > 0 ? verdict.Reasons[0] : null);
        return TypedResults.NoContent();
    }
}
