using FanVote.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FanVote.Rewards;

/// <summary>
/// What every live format's routes share: an operator's definition (a body up to 64 KB; 400 bad, 409 another
/// definition under the id, 413), a fan's action (a body up to 4 KB; 400, 404, 409, 413), the problems they answer, the
/// time a definition keeps (milliseconds), and the one rule for a fan's request key (a spin, a raffle entry).
/// </summary>
public static partial class EngagementRoutes
{
    /// <summary>Largest body of a fan's action.</summary>
    public const int MaxFanBody = 4 * 1024;

    /// <summary>Largest body of an operator's definition.</summary>
    public const int MaxDefinitionBody = 64 * 1024;

    public static RouteHandlerBuilder DefinesFormat(this RouteHandlerBuilder route, int maxBody = MaxDefinitionBody) =>
        route.WithMetadata(new RequestSizeLimitAttribute(maxBody))
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);

    /// <summary>A definition that starts a workflow (a trivia round, a raffle): also 503 when the sidecar cannot start it.</summary>
    public static RouteHandlerBuilder DefinesScheduledFormat(this RouteHandlerBuilder route, int maxBody = MaxDefinitionBody) =>
        route.DefinesFormat(maxBody).ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    public static RouteHandlerBuilder FanAction(this RouteHandlerBuilder route) =>
        route.WithMetadata(new RequestSizeLimitAttribute(MaxFanBody))
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

    /// <summary>
    /// Starts a stored definition's workflow (<paramref name="start"/>); when the sidecar cannot, 503 saying the
    /// definition is stored and that sending it again starts it. Null when started.
    /// </summary>
    public static async Task<ProblemHttpResult?> ScheduleAsync(Func<Task> start, HttpContext ctx, string what, string id)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(ctx);
        try
        {
            await start();
            return null;
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException or TimeoutException)
        {
            ctx.Response.Headers.RetryAfter = "2";
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Not scheduled yet",
                $"The {what} '{id}' is stored, but its schedule could not be started just now. Send the same definition again: it starts it, and changes nothing else.");
        }
    }

    public static ProblemHttpResult Bad(string detail) => Problems.Of(StatusCodes.Status400BadRequest, "Bad request", detail);

    /// <summary>A fan's key for one spin or one raffle entry: 8-64 letters, digits, '-' or '_'.</summary>
    public static bool IsRequestKey([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? key) => key is not null && RequestKey().IsMatch(key);

    /// <summary>A time as a definition keeps it: to the millisecond (the database keeps microseconds), so the same definition sent again compares equal.</summary>
    public static DateTimeOffset Ms(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_-]{8,64}$")]
    private static partial System.Text.RegularExpressions.Regex RequestKey();
}
