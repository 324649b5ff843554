using FanVote.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FanVote.Ingress;

/// <summary>
/// The fan web app (GET /app): one page for phones that signs a fan in here (guest or one-time passcode), votes here,
/// and plays the live formats on rewards (points, tier, polls, trivia, raffles, spins) and watches results, both on
/// their own origins (<c>FanApp:RewardsUrl</c>, <c>FanApp:ResultsUrl</c>: the addresses a fan's browser reaches them
/// at; those services allow this origin in FANVOTE_FAN_APP_ORIGINS). Anyone may load it: it holds nothing, and every
/// call it makes carries the fan's own token and is checked by the route it calls. Script and style are files of their
/// own, so the Content-Security-Policy allows no inline script and no origin but these three; not framable.
/// </summary>
public static class FanAppEndpoints
{
    public sealed record FanAppConfig(string ResultsUrl, string RewardsUrl);

    private static readonly (string Path, string Resource, string Type)[] Files =
    [
        ("/app", "index.html", "text/html; charset=utf-8"),
        ("/app/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    public static WebApplication MapFanAppEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var config = Configured(app.Configuration);
        var csp = config is null ? "" : ContentSecurityPolicy(config);
        foreach (var (path, resource, type) in Files)
        {
            var bytes = EmbeddedPage.Of(typeof(FanAppEndpoints).Assembly, "FanVote.Ingress.FanApp." + resource);
            app.MapGet(path, IResult (HttpContext ctx) =>
            {
                if (config is null)
                {
                    return NotEnabled();
                }

                Secure(ctx, csp);
                return TypedResults.Bytes(bytes.Value, type);
            }).AllowAnonymous().ExcludeFromDescription();
        }

        app.MapGet("/app/config.json", IResult (HttpContext ctx) =>
        {
            if (config is null)
            {
                return NotEnabled();
            }

            ctx.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Ok(config);
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>The two addresses the page calls, each an http(s) origin or base URL; null when the app is not configured here.</summary>
    internal static FanAppConfig? Configured(IConfiguration configuration)
    {
        var results = configuration["FanApp:ResultsUrl"];
        var rewards = configuration["FanApp:RewardsUrl"];
        if (string.IsNullOrWhiteSpace(results) && string.IsNullOrWhiteSpace(rewards))
        {
            return null;
        }

        return new FanAppConfig(BaseUrl("FanApp:ResultsUrl", results), BaseUrl("FanApp:RewardsUrl", rewards));
    }

    private static string BaseUrl(string setting, string? value)
    {
        if (!Uri.TryCreate(value?.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new InvalidOperationException($"{setting} must be the http(s) address a fan's browser reaches that service at (e.g. https://live.example.com), given with the other FanApp setting, or neither (no fan web app here); it is '{value}'.");
        }

        return uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    /// <summary>No script or style but the app's own files; calls only to ingress, results and rewards; not framable.</summary>
    private static string ContentSecurityPolicy(FanAppConfig config)
    {
        var origins = string.Join(' ', new[] { config.ResultsUrl, config.RewardsUrl }.Select(u => new Uri(u).GetLeftPart(UriPartial.Authority)).Distinct());
        return $"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' {origins}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    private static void Secure(HttpContext ctx, string contentSecurityPolicy)
    {
        ctx.Response.Headers.ContentSecurityPolicy = contentSecurityPolicy;
        ctx.Response.Headers.XFrameOptions = "DENY";
        ctx.Response.Headers.XContentTypeOptions = "nosniff";
        ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
        ctx.Response.Headers.CacheControl = "no-cache";
    }

    private static ProblemHttpResult NotEnabled() =>
        Problems.Of(StatusCodes.Status404NotFound, "No fan web app here",
            "This ingress does not serve the fan web app: set FanApp__ResultsUrl and FanApp__RewardsUrl (the addresses fans' browsers reach results and rewards at) to serve it at /app.");
}
