using FanVote.ServiceDefaults;
using Microsoft.AspNetCore.Diagnostics;
using StackExchange.Redis;

namespace FanVote.Ingress.Adapters;

/// <summary>
/// Ingress's Redis is away on any route (sign-in, challenge, refresh; the vote route answers its own 503 first): the
/// connection was lost (<see cref="RedisConnectionException"/>), or Redis did not answer in time
/// (<see cref="RedisTimeoutException"/>, which is a TimeoutException, not a RedisException: a hung host or a partition
/// closes no connection). The fan gets 503 with Retry-After and a problem to act on instead of a 500; nothing was
/// decided, so trying again is safe. Once Redis answers again the multiplexer has reconnected by itself.
/// </summary>
internal sealed class RedisUnavailableHandler(ILogger<RedisUnavailableHandler> log) : IExceptionHandler
{
    public static bool IsUnavailable(Exception e) => e is RedisConnectionException or RedisTimeoutException;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (!IsUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        IngressLog.RedisUnavailable(log, exception.GetType().Name, httpContext.Request.Path);
        httpContext.Response.Headers.RetryAfter = "1";
        await Problems.WriteAsync(httpContext, StatusCodes.Status503ServiceUnavailable, "Try again in a moment",
            "We could not reach our data store just now; nothing was changed. Send the same request again in a second.");
        return true;
    }
}
