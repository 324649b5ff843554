using FanVote.Contracts.Events;
using FanVote.Ingress.Core;

namespace FanVote.Ingress.Risk;

/// <summary>
/// The vote path's risk check: is the account or the device under a verdict? One in-memory lookup per subject (none
/// while no verdict is known), so it adds nothing measurable to a legitimate vote. Challenged: 403 with the challenge
/// id and where to answer it. Blocked: 403 until the verdict lapses.
/// </summary>
public static class RiskGate
{
    public static IResult? Refuse(HttpContext ctx, SessionClaims claims)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(claims);
        var services = ctx.RequestServices;
        var cache = services.GetRequiredService<VerdictCache>();
        if (cache.Count == 0)
        {
            return null;
        }

        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        if (cache.Find(claims.AccountId, DeviceOf(ctx, claims), now) is not { } verdict)
        {
            return null;
        }

        var metrics = services.GetRequiredService<IngressMetrics>();
        if (verdict.Action == RiskAction.Block)
        {
            metrics.Refuse("risk-block");
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Votes blocked",
                detail: $"Votes from this {verdict.SubjectKind} are blocked until {verdict.ExpiresAt:u} because of unusual voting activity. If you think this is a mistake, contact the show's support.");
        }

        metrics.Refuse("risk-challenge");
        metrics.Challenge("refused", verdict.Reasons);
        var kind = services.GetRequiredService<IChallengeVerifier>().Kind;
        return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Check needed",
            detail: $"We need a quick check that a person is voting from this {verdict.SubjectKind}. Answer the challenge (POST /v1/challenges/{verdict.ChallengeId} with {{\"answer\":\"...\"}}), then vote again.",
            extensions: new Dictionary<string, object?>
            {
                ["challengeId"] = verdict.ChallengeId,
                ["challengeUrl"] = $"/v1/challenges/{verdict.ChallengeId}",
                ["challengeKind"] = kind,
            });
    }

    /// <summary>The device a vote counts against: the X-Device-Id header when sane, else the token's (as the vote endpoint does).</summary>
    public static string DeviceOf(HttpContext ctx, SessionClaims claims)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(claims);
        return ctx.Request.Headers["X-Device-Id"].ToString() is { Length: > 0 and <= 128 } d ? d : claims.DeviceId;
    }
}
