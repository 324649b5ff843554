using FanVote.Ingress.Adapters;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;

namespace FanVote.Ingress;

/// <summary>
/// A session of an account its fan erased stays valid until it expires (tokens are checked locally), but does nothing
/// more: routes for fans say <c>RefuseErased()</c> (votes are refused by the admission script itself, in the same round trip).
/// </summary>
public static class ErasedAccounts
{
    public static TBuilder RefuseErased<TBuilder>(this TBuilder endpoint)
        where TBuilder : IEndpointConventionBuilder
    {
        endpoint.WithMetadata(new Microsoft.AspNetCore.Http.ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]));
        return endpoint.AddEndpointFilter(async (invocation, next) =>
            await invocation.HttpContext.RequestServices.GetRequiredService<RedisAccountDirectory>().IsErasedAsync(invocation.HttpContext.Fan().AccountId)
                ? Problem
                : await next(invocation));
    }

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem =>
        Problems.Of(StatusCodes.Status403Forbidden, "Account erased", "You asked for this account to be erased: its sessions can do nothing more. Sign in again to start a new account.");
}
