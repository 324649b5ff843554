using System.Buffers;
using System.Globalization;
using FanVote.Ingress.Core;
using FanVote.Ingress.Risk;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FanVote.Ingress;

/// <summary>
/// `POST /v1/windows/{windowId}/votes`, for signed-in fans (the session scheme checks the token first). The endpoint
/// only reads the request and writes the answer: the decision is <see cref="VoteDesk"/>'s.
/// </summary>
public static class VoteEndpoints
{
    public sealed record VoteResponse(Guid VoteId, string Receipt);

    /// <summary>The body of a vote (read without a document on the hot path; this record is what the OpenAPI document shows).</summary>
    public sealed record VoteBody(string CandidateId);

    /// <summary>The vote route (the warm-up finds the endpoint by it).</summary>
    public const string Route = "/v1/windows/{windowId:id}/votes";

    public static WebApplication MapVoteEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost(Route, VoteAsync).RequireFan(PurposeNames.NeededToVote, "Voting")
            .WithTags("Voting").WithSummary("Vote for a candidate")
            .WithDescription("""
                Body: {"candidateId":"..."} (at most 1 KB). 202 means the vote is stored and will be counted exactly once; the receipt
                proves it later against the certified result. Send an Idempotency-Key (a new random one per vote) and retry a 503 or a
                lost answer with the same key: the retry gets the original 202. A 403 with a challengeId asks for POST /v1/challenges/{id}; a 403 with "purposes" names the consent voting needs.
                """)
            .Accepts<VoteBody>("application/json")
            .Produces<VoteResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<IResult> VoteAsync(
        string windowId, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, HttpContext ctx, VoteDesk desk, IChallengeVerifier verifier, IOptions<IngressOptions> options, IngressMetrics metrics)
    {
        var req = ctx.Request;
        var max = options.Value.MaxVoteBody;
        var (candidate, tooLarge) = await ReadCandidateAsync(req, max);
        if (tooLarge)
        {
            metrics.Refuse("body");
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, "Vote too large", $"A vote body is at most {max} bytes: send just {{\"candidateId\":\"...\"}}.");
        }

        VoteDecision decision;
        try
        {
            decision = await desk.DecideAsync(
                new VoteRequest(windowId, ctx.Fan(), candidate, idempotencyKey ?? "", ctx.Connection.RemoteIpAddress?.ToString() ?? ""),
                ctx.RequestAborted);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            // RedisTimeoutException is a TimeoutException: a hung Redis (no closed connection) must be a 503 too.
            metrics.Refuse("admission-store");
            ctx.Response.Headers.RetryAfter = "1";
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Vote not stored yet",
                "We could not store your vote just now. Retry with the same Idempotency-Key: it will count once.");
        }

        switch (decision)
        {
            case VoteDecision.Accepted a:
                metrics.Accepted.Add(1);
                return TypedResults.Accepted((string?)null, new VoteResponse(a.VoteId, a.Receipt));
            case VoteDecision.Refused r:
                metrics.Refuse(r.Reason);
                if (r.RetryAfter is { } seconds)
                {
                    ctx.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                }

                if (r.ChallengeId is { } challenge)
                {
                    metrics.Challenge("refused", r.VerdictReason);
                    return Problems.Of(r.Status, r.Title, r.Detail, new Dictionary<string, object?>
                    {
                        ["challengeId"] = challenge,
                        ["challengeUrl"] = $"/v1/challenges/{challenge}",
                        ["challengeKind"] = verifier.Kind,
                    });
                }

                return Problems.Of(r.Status, r.Title, r.Detail, r.VoteId is { } id ? new Dictionary<string, object?> { ["voteId"] = id } : null);
            default:
                throw new InvalidOperationException($"unknown decision {decision}");
        }
    }

    /// <summary>The body's candidate (null when it is not a valid vote body), or too large; read into a pooled buffer without a document.</summary>
    private static async Task<(string? Candidate, bool TooLarge)> ReadCandidateAsync(HttpRequest req, int maxBytes)
    {
        if (req.ContentLength > maxBytes)
        {
            return (null, true);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
        try
        {
            var read = 0;
            int n;
            while (read <= maxBytes && (n = await req.Body.ReadAsync(buffer.AsMemory(read, maxBytes + 1 - read), req.HttpContext.RequestAborted)) > 0)
            {
                read += n;
            }

            return read > maxBytes ? (null, true) : (VoteRules.TryReadCandidate(buffer.AsSpan(0, read)), false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
