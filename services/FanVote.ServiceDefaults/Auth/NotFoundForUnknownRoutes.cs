using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace FanVote.ServiceDefaults.Auth;

/// <summary>
/// The fallback policy (sidecar only) also covers requests that match no route at all; those answer 404 problem+json,
/// as an unknown path should, instead of the sidecar-only 401. Every matched route keeps its own answer.
/// </summary>
internal sealed class NotFoundForUnknownRoutes : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (!authorizeResult.Succeeded && context.GetEndpoint() is null)
        {
            return Problems.WriteAsync(context, StatusCodes.Status404NotFound, "Not found", "There is nothing at this address. The public API is under /v1.");
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
