using FanVote.Rewards.Adapters;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FanVote.Rewards;

/// <summary>
/// `GET /v1/live`, for anyone: the show's lineup across polls, trivia, raffles and wheels (what the fan web app lists),
/// each with its state; the details are at each format's own public route. Public and read-only, like those routes.
/// </summary>
public static class LineupEndpoints
{
    public sealed record LineupView(DateTimeOffset At, IReadOnlyList<LineupItem> Items);

    public static WebApplication MapLineupEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1/live", LineupAsync).AllowAnonymous().WithTags("Live formats")
            .WithSummary("What is on now: polls, trivia rounds, raffles and wheels that are scheduled, open, or ended in the last 15 minutes")
            .WithDescription("Each item: kind (poll, trivia, raffle, wheel), id, title, state, opensAt, closesAt, minTier (VIP only). At most 20 of each kind. Details at GET /v1/polls/{id}, /v1/trivia/{id}, /v1/raffles/{id}, /v1/wheels/{id}.");
        return app;
    }

    private static async Task<Ok<LineupView>> LineupAsync(HttpContext ctx, PostgresLineup lineup, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        ctx.Response.Headers.CacheControl = "public, max-age=2";
        return TypedResults.Ok(new LineupView(now, await lineup.NowAsync(now, ct)));
    }
}
