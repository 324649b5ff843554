using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FanVote.ServiceDefaults;

/// <summary>
/// Which web pages may call a FanVote service from a fan's browser (CORS), the same way in every host: the fan web app
/// is served by ingress (GET /app) and calls rewards (points, spins, polls, trivia, raffles) and results (live results)
/// on their own origins. Only the origins in <see cref="Setting"/> are allowed, with only the headers a fan sends
/// (Authorization, Content-Type, Idempotency-Key): the operator key and the sidecar's token are not among them, so no
/// page can send them across origins, and nothing rides on cookies (there are none), so allowing an origin gives its
/// page no more than a fan's own bearer token gives the fan. No origin configured: no cross-origin call is allowed.
/// </summary>
public static class FanAppCors
{
    /// <summary>Comma-separated origins (scheme://host[:port]) of the fan web app, e.g. http://127.0.0.1:5080.</summary>
    public const string Setting = "FANVOTE_FAN_APP_ORIGINS";

    public const string Policy = "fan-app";

    /// <summary>The request headers a fan's page may send; everything else (X-Operator-Key, dapr-api-token) is refused at the preflight.</summary>
    public static readonly string[] AllowedHeaders = ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"];

    internal static void AddFanAppCors(this WebApplicationBuilder builder)
    {
        var origins = Origins(builder.Configuration);
        builder.Services.AddCors(o => o.AddPolicy(Policy, p =>
        {
            p.WithOrigins(origins).WithHeaders(AllowedHeaders).WithMethods("GET", "POST", "PUT", "DELETE")
                .WithExposedHeaders("Retry-After", "ETag").SetPreflightMaxAge(TimeSpan.FromMinutes(10));
        }));
    }

    /// <summary>The configured origins, each checked to be a bare http(s) origin (a typo fails the start, not every fan's first call).</summary>
    public static string[] Origins(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var origins = (configuration[Setting] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var origin in origins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.GetLeftPart(UriPartial.Authority) != origin.TrimEnd('/'))
            {
                throw new InvalidOperationException(
                    $"{Setting}: '{origin}' is not an origin. Give scheme://host[:port] of each page allowed to call this service from a fan's browser (comma-separated), e.g. https://fans.example.com; no path, no wildcard.");
            }
        }

        return [.. origins.Select(o => o.TrimEnd('/'))];
    }

    /// <summary>
    /// The request pipeline's order for a host that serves fans' browsers: CORS after routing and before authentication,
    /// so a preflight (which carries no token) is answered by the policy instead of refused by the token check.
    /// Call it first in Program, before any other middleware.
    /// </summary>
    public static WebApplication UseFanAppCors(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseCors(Policy);
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}
