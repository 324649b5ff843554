using FanVote.Certification;
using FanVote.Contracts.Events;
using FanVote.Results.Receipts;
using Microsoft.AspNetCore.Http.HttpResults;

using FanVote.ServiceDefaults.Auth;

namespace FanVote.Results;

/// <summary>
/// Public: a window's certified result (signed by the auditor), the inclusion proof of one vote, and the auditor's public key. The proof is checked by the fan against the
/// certified root they got elsewhere (README: "Verify a receipt"; `./fanvote receipt verify`), not against this server.
/// </summary>
public static class ReceiptEndpoints
{
    /// <summary>The auditor's public key, as results checks certified results with it; compare its id with the operator's announcement.</summary>
    public sealed record CertificationKey(string KeyId, string PublicKeyPem, string Algorithm);

    public static WebApplication MapReceiptEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1/windows/{windowId:id}/certified", GetCertifiedAsync).AllowAnonymous()
            .WithTags("Certified results").WithSummary("A window's certified result, signed by the auditor")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/windows/{windowId:id}/receipts/{voteId}", GetReceiptAsync).AllowAnonymous()
            .WithTags("Certified results").WithSummary("The inclusion proof of one counted vote")
            .WithDescription("Check it against the certified root you got elsewhere (./fanvote receipt verify), not against this server.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapGet("/v1/certification-key", (AuditorKey key) => TypedResults.Ok(new CertificationKey(key.KeyId, key.Pem, "ECDSA P-256, SHA-256, IEEE P1363 signature over \"fanvote-certified-result-signature-v1\\n\" + the digest"))).AllowAnonymous()
            .WithTags("Certified results").WithSummary("The auditor's public key that certified results are signed with");
        return app;
    }

    private static async Task<Results<Ok<CertifiedResult>, ProblemHttpResult>> GetCertifiedAsync(string windowId, ReceiptBook book, CancellationToken ct) =>
        await book.CertifiedAsync(windowId, ct) is { } certified ? TypedResults.Ok(certified) : NotCertified(windowId);

    private static async Task<Results<Ok<InclusionProof>, ProblemHttpResult>> GetReceiptAsync(string windowId, string voteId, HttpContext ctx, ReceiptBook book, CancellationToken ct)
    {
        if (!Guid.TryParse(voteId, out var id))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a vote id",
                detail: $"'{voteId}' is not a vote id. Use the voteId from the answer to your vote, e.g. 0193a1f2-7c4e-7b1a-9f00-3c2d1e0f4a5b.");
        }

        var lookup = await book.ProveAsync(windowId, id, ct);
        if (lookup.Certified is null)
        {
            return NotCertified(windowId);
        }

        if (lookup.Preparing is { } preparing)
        {
            ctx.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Receipts are being prepared",
                detail: $"The result of '{windowId}' is certified, but its receipts are still being published ({preparing}). Try again in a few seconds.");
        }

        if (lookup.Proof is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Vote not counted",
                detail: $"Vote {id} is not among the {lookup.Certified.LeafCount} counted votes of '{windowId}': it never reached the ledger, or the audit excluded it " +
                        $"({lookup.Certified.Excluded} votes were excluded). Check the vote id against the answer you got when you voted.");
        }

        ctx.Response.Headers.CacheControl = "public, max-age=3600";
        return TypedResults.Ok(lookup.Proof);
    }

    private static ProblemHttpResult NotCertified(string windowId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not certified yet",
            detail: $"Window '{windowId}' has no certified result yet: receipts exist once the window has closed and its audit is done.");
}
