using FanVote.Results.Core;
using FanVote.Results.Streaming;
using Microsoft.AspNetCore.Http.HttpResults;
using FanVote.ServiceDefaults;
using Microsoft.Net.Http.Headers;

namespace FanVote.Results;

/// <summary>Results JSON (ETag + short cache so a CDN can absorb polling), the SSE stream, and the live page.</summary>
public static class ResultsEndpoints
{
    private static readonly Lazy<byte[]> PageHtml = EmbeddedPage.Of(typeof(ResultsEndpoints).Assembly, "FanVote.Results.Page.index.html");

    public static WebApplication MapResultsEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/", () => TypedResults.Bytes(PageHtml.Value, "text/html; charset=utf-8")).AllowAnonymous();
        app.MapGet("/v1/windows", (ResultsBoard board, HttpContext ctx) =>
            {
                AnyPage(ctx);
                return TypedResults.Ok(board.All().Select(ResultsJson.From));
            }).AllowAnonymous()
            .WithTags("Live results").WithSummary("Every window's live results");
        app.MapGet("/v1/windows/{windowId:id}/results", GetResults).AllowAnonymous()
            .WithTags("Live results").WithSummary("One window's live results")
            .WithDescription("Carries an ETag (the snapshot's seq) and Cache-Control: public, max-age=1; send If-None-Match to get 304 while nothing changed.")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/windows/{windowId:id}/results/stream", StreamAsync).AllowAnonymous()
            .WithTags("Live results").WithSummary("One window's live results as Server-Sent Events")
            .WithDescription("The current results at once, then every newer snapshot (event id = seq). Reconnect with Last-Event-ID to skip what you have. A few streams per client address.")
            .Produces<ResultsJson>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    private static Results<Ok<ResultsJson>, StatusCodeHttpResult, ProblemHttpResult> GetResults(string windowId, HttpContext ctx, ResultsBoard board)
    {
        var view = board.Get(windowId);
        if (view is null)
        {
            return UnknownWindow(windowId);
        }

        AnyPage(ctx);
        var etag = $"\"{view.Seq}\"";
        ctx.Response.Headers.ETag = etag;
        ctx.Response.Headers.CacheControl = "public, max-age=1";
        return ctx.Request.Headers.IfNoneMatch.ToString() == etag
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(ResultsJson.From(view));
    }

    /// <summary>
    /// Server-Sent Events: the current results at once, then every newer snapshot. A reconnect with
    /// Last-Event-ID at the current seq gets no repeat of what it already has.
    /// </summary>
    private static async Task StreamAsync(string windowId, HttpContext ctx, ResultsBoard board, ResultsHub hub)
    {
        var view = board.Get(windowId);
        if (view is null)
        {
            await UnknownWindow(windowId).ExecuteAsync(ctx);
            return;
        }

        var client = ctx.Connection.RemoteIpAddress?.ToString() ?? "";
        if (!hub.TryOpen(client))
        {
            ctx.Response.Headers.RetryAfter = "10";
            await Problems.Of(StatusCodes.Status429TooManyRequests, "Too many live streams",
                $"This address has {hub.MaxStreamsPerClient} live streams open already. Close one, or poll GET /v1/windows/{windowId}/results instead.").ExecuteAsync(ctx);
            return;
        }

        AnyPage(ctx);
        ctx.Response.Headers.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache, no-transform";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
        var ct = ctx.RequestAborted;
        var channel = hub.Subscribe(windowId);
        try
        {
            await ctx.Response.WriteAsync("retry: 2000\n\n", ct);
            var lastId = long.TryParse(ctx.Request.Headers["Last-Event-ID"].ToString(), out var l) ? l : -1;
            var current = board.Get(windowId)!;
            if (current.Seq > lastId || lastId < 0)
            {
                await ctx.Response.Body.WriteAsync(ResultsHub.Frame(current), ct);
            }

            await ctx.Response.Body.FlushAsync(ct);
            await foreach (var frame in channel.Reader.ReadAllAsync(ct))
            {
                await ctx.Response.Body.WriteAsync(frame, ct);
                await ctx.Response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            hub.Unsubscribe(windowId, channel);
            hub.Close(client);
        }
    }

    /// <summary>
    /// Public, read-only numbers: any page may read them (the operator console is served by the orchestrator's origin, the
    /// fan web app by ingress's). Simple GETs without credentials need no preflight, so a wildcard origin is all it takes.
    /// </summary>
    private static void AnyPage(HttpContext ctx) => ctx.Response.Headers.AccessControlAllowOrigin = "*";

    private static ProblemHttpResult UnknownWindow(string windowId) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown window",
            detail: $"No results are known for window '{windowId}'. Check the window id; results appear once the window is scheduled.");
}
