using System.Buffers;
using System.Globalization;
using FanVote.Contracts.Events;
using FanVote.Ingress.Core;
using FanVote.Ingress.Publishing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FanVote.Ingress;

/// <summary>
/// `POST /v1/windows/{windowId}/votes`. Only cheap checks run here: the token (signature, local), the window
/// schedule (in memory), the body, and one Redis round trip for idempotency, quota and rate limits; then the
/// vote waits for its group commit to the broker and gets 202 only once the broker has it.
/// </summary>
public static class VoteEndpoints
{
    public sealed record VoteResponse(Guid VoteId, string Receipt);

    public static WebApplication MapVoteEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/v1/windows/{windowId}/votes", VoteAsync);
        return app;
    }

    private static async Task<IResult> VoteAsync(
        string windowId, HttpContext ctx, IngressKeys keys, WindowBook windows, IAdmissionStore admission, VoteBatcher batcher,
        IOptions<IngressOptions> options, IngressMetrics metrics, TimeProvider time)
    {
        var o = options.Value;
        var req = ctx.Request;
        var auth = req.Headers.Authorization.ToString();
        var tokenError = keys.Tokens.Validate(auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null, out var claims);
        if (tokenError != TokenError.None)
        {
            metrics.Refuse("token");
            ctx.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem(StatusCodes.Status401Unauthorized, "Not signed in", SessionTokens.Explain(tokenError));
        }

        // Fraud verdicts (issue 4, Risk/RiskGate.cs): an in-memory lookup, no I/O. A challenged or blocked account or device stops here.
        if (Risk.RiskGate.Refuse(ctx, claims!) is { } riskRefusal)
        {
            return riskRefusal;
        }

        var window = windows.Find(windowId);
        if (window is null)
        {
            metrics.Refuse("unknown-window");
            return Problem(StatusCodes.Status404NotFound, "Unknown window", $"There is no voting window '{windowId}'. Check the link you voted from.");
        }

        var now = time.GetUtcNow();
        switch (window.StatusAt(now))
        {
            case WindowStatus.NotYetOpen:
                metrics.Refuse("not-open");
                return Problem(StatusCodes.Status409Conflict, "Voting has not started", $"Voting opens at {window.OpensAt:u}. Try again then.");
            case WindowStatus.Closed:
                // A retry of a vote admitted before the close still gets its answer (and, if its first attempt
                // got 503, is published again with its original time); only new votes are refused.
                var retryKey = req.Headers["Idempotency-Key"].ToString();
                var retried = VoteRules.CheckIdempotencyKey(retryKey) is null
                    ? await admission.FindAsync(windowId, claims!.AccountId, retryKey, ctx.RequestAborted)
                    : null;
                if (retried is null)
                {
                    metrics.Refuse("closed");
                    return Problem(StatusCodes.Status409Conflict, "Voting has closed", $"Voting closed at {window.ClosesAt:u}; votes are no longer accepted.");
                }

                if (retried.Committed)
                {
                    return Accepted(keys, windowId, retried);
                }

                if (now > window.ClosesAt + o.RepublishAfterClose)
                {
                    // Too late to confirm it: the drain has taken (or is about to take) the accepted count as final.
                    // The 503 attempt may still have reached the broker (a publish cannot be called back), so the
                    // fan gets the vote id to look up: a receipt exists after certification if and only if it counted.
                    metrics.Refuse("closed-unconfirmed");
                    return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Voting has closed",
                        detail: $"Voting closed at {window.ClosesAt:u} and your earlier attempt with this Idempotency-Key was never confirmed; it is too late to send it again. " +
                                $"If that attempt reached us it is counted: once the result is certified, GET /v1/windows/{windowId}/receipts/{retried.VoteId} on the results service answers 200 if it was, 404 if not.",
                        extensions: new Dictionary<string, object?> { ["voteId"] = retried.VoteId });
                }

                return await PublishAsync(ctx, windowId, retried, claims!, req.Headers["X-Device-Id"].ToString(), retryKey, keys, batcher, metrics);
        }

        var (candidate, bodyProblem) = await ReadCandidateAsync(req, o.MaxVoteBody);
        if (bodyProblem is not null)
        {
            metrics.Refuse("body");
            return bodyProblem;
        }

        if (!window.HasCandidate(candidate!))
        {
            metrics.Refuse("unknown-candidate");
            return Problem(StatusCodes.Status422UnprocessableEntity, "Unknown candidate", $"'{candidate}' is not a candidate in this window. Choose one of: {string.Join(", ", window.Candidates)}.");
        }

        var idemKey = req.Headers["Idempotency-Key"].ToString();
        if (VoteRules.CheckIdempotencyKey(idemKey) is { } keyProblem)
        {
            metrics.Refuse("idempotency-key");
            return Problem(StatusCodes.Status400BadRequest, "Missing Idempotency-Key", keyProblem);
        }

        var device = req.Headers["X-Device-Id"].ToString() is { Length: > 0 and <= 128 } d ? d : claims!.DeviceId;
        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "";
        var record = new IdempotencyRecord(Guid.CreateVersion7(now), candidate!, now, Committed: false);
        AdmissionResult decision;
        try
        {
            decision = await admission.AdmitAsync(new AdmissionRequest(
                windowId, claims!.AccountId, device, IpPrefix.Of(ip), idemKey, window.VotesPerAccount, window.ClosesAt - now + TimeSpan.FromHours(1),
                new RateLimits(o.PerAccountPerSecond, o.PerDevicePerSecond, o.PerIpPrefixPerSecond), record), ctx.RequestAborted);
        }
        catch (RedisException)
        {
            metrics.Refuse("admission-store");
            return Unavailable(ctx);
        }

        switch (decision.Outcome)
        {
            case AdmissionOutcome.QuotaExhausted:
                metrics.Refuse("quota");
                ctx.Response.Headers.RetryAfter = VoteRules.RetryAfterQuota(window, now).ToString(CultureInfo.InvariantCulture);
                return Problem(StatusCodes.Status429TooManyRequests, "No votes left", $"You have used all {window.VotesPerAccount} of your votes in this window.");
            case AdmissionOutcome.RateLimited:
                metrics.Refuse("rate-" + decision.LimitedBy);
                ctx.Response.Headers.RetryAfter = VoteRules.RetryAfterRateLimit().ToString(CultureInfo.InvariantCulture);
                return Problem(StatusCodes.Status429TooManyRequests, "Slow down", $"Too many votes per second from this {decision.LimitedBy}. Wait a second and try again.");
            case AdmissionOutcome.Duplicate when decision.Existing!.CandidateId != candidate:
                metrics.Refuse("idempotency-conflict");
                return Problem(StatusCodes.Status422UnprocessableEntity, "Idempotency-Key reused",
                    "This Idempotency-Key was already used for a vote for another candidate. Use a new key for a new vote.");
            case AdmissionOutcome.Duplicate when decision.Existing!.Committed:
                return Accepted(keys, windowId, decision.Existing);
            case AdmissionOutcome.Duplicate:
                record = decision.Existing!; // an earlier attempt got 503: publish the very same vote again
                break;
        }

        return await PublishAsync(ctx, windowId, record, claims, device, idemKey, keys, batcher, metrics);
    }

    /// <summary>Group-commits the vote; 202 once the broker acknowledged it, 503 (retry with the same key) otherwise.</summary>
    private static async Task<IResult> PublishAsync(
        HttpContext ctx, string windowId, IdempotencyRecord record, SessionClaims claims, string device, string idemKey,
        IngressKeys keys, VoteBatcher batcher, IngressMetrics metrics)
    {
        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "";
        device = device is { Length: > 0 and <= 128 } ? device : claims.DeviceId;
        var vote = new VoteAccepted
        {
            EventId = record.VoteId,
            OccurredAt = record.AcceptedAt,
            VoteId = record.VoteId,
            WindowId = windowId,
            CandidateId = record.CandidateId,
            AccountId = claims.AccountId,
            DeviceId = device,
            Ip = ip,
            AccountCreatedAt = claims.AccountCreatedAt,
        };
        if (!await batcher.PublishAsync(vote, new VoteCommit(windowId, claims.AccountId, idemKey, record)))
        {
            metrics.Refuse("broker");
            return Unavailable(ctx);
        }

        metrics.Accepted.Add(1);
        return Accepted(keys, windowId, record);
    }

    private static ProblemHttpResult Unavailable(HttpContext ctx)
    {
        ctx.Response.Headers.RetryAfter = "1";
        return Problem(StatusCodes.Status503ServiceUnavailable, "Vote not stored yet",
            "We could not store your vote just now. Retry with the same Idempotency-Key: it will count once.");
    }

    private static Accepted<VoteResponse> Accepted(IngressKeys keys, string windowId, IdempotencyRecord r) =>
        TypedResults.Accepted((string?)null, new VoteResponse(r.VoteId, keys.Receipts.Issue(r.VoteId, windowId, r.CandidateId, r.AcceptedAt)));

    private static async Task<(string? Candidate, IResult? Problem)> ReadCandidateAsync(HttpRequest req, int maxBytes)
    {
        if (req.ContentLength > maxBytes)
        {
            return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Vote too large", $"A vote body is at most {maxBytes} bytes: send just {{\"candidateId\":\"...\"}}."));
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

            if (read > maxBytes)
            {
                return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Vote too large", $"A vote body is at most {maxBytes} bytes: send just {{\"candidateId\":\"...\"}}."));
            }

            if (VoteRules.TryReadCandidate(buffer.AsSpan(0, read)) is { } id)
            {
                return (id, null);
            }

            return (null, Problem(StatusCodes.Status400BadRequest, "Invalid vote", "Send a JSON body like {\"candidateId\":\"a\"}."));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
