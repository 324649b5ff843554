using FanVote.Rewards.Adapters;
using FanVote.ServiceDefaults;
using Microsoft.AspNetCore.Diagnostics;

namespace FanVote.Rewards;

/// <summary>A request that waited too long for the ledger's chain lock: 503 problem+json with Retry-After, nothing done.</summary>
internal sealed class LedgerBusyHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not LedgerBusyException)
        {
            return false;
        }

        httpContext.Response.Headers.RetryAfter = "1";
        await Problems.WriteAsync(httpContext, StatusCodes.Status503ServiceUnavailable, "Points ledger busy",
            "Too many spins and entries are waiting for the points ledger right now; nothing was done. Send the same request again (same key) in a moment.");
        return true;
    }
}
