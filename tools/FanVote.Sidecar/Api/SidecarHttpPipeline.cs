using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.Hosting;

namespace FanVote.Sidecar.Api;

/// <summary>Path cleaning, the API-token check and API logging, as daprd's HTTP server does them.</summary>
public static class SidecarHttpPipeline
{
    public static void UseSidecarPipeline(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<SidecarOptions>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FanVote.Sidecar.Api");
        app.Use(async (ctx, next) =>
        {
            // Dapr.Actors sends "//v1.0/actors/..."; daprd runs path.Clean on every path (§1).
            if (!ctx.Request.Headers.ContentType.ToString().StartsWith("application/grpc", StringComparison.Ordinal))
            {
                ctx.Request.Path = CleanPath(ctx.Request.Path.Value ?? "/");
                var path = ctx.Request.Path.Value!;
                var exempt = path.StartsWith("/v1.0/healthz", StringComparison.Ordinal);
                if (options.ApiToken is { } token && !exempt)
                {
                    if (!TokenMatches(ctx.Request.Headers["dapr-api-token"].ToString(), token))
                    {
                        ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        ctx.Response.ContentType = "text/plain";
                        await ctx.Response.WriteAsync("invalid api token");
                        return;
                    }
                }

                ctx.Request.Headers.Remove("dapr-api-token");
            }
            else if (options.ApiToken is { } token)
            {
                if (!TokenMatches(ctx.Request.Headers["dapr-api-token"].ToString(), token))
                {
                    // gRPC: UNAUTHENTICATED (16) on every method, reflection included (§9).
                    ctx.Response.StatusCode = StatusCodes.Status200OK;
                    ctx.Response.ContentType = "application/grpc";
                    ctx.Response.AppendTrailer("grpc-status", "16");
                    ctx.Response.AppendTrailer("grpc-message", "authentication error: api token mismatch");
                    return;
                }
            }

            await next(ctx);
            if (options.EnableApiLogging)
            {
                SidecarLog.ApiCall(log, ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Response.StatusCode);
            }
        });
    }

    /// <summary>Constant time in the content and the length of both: SHA-256 of each, compared with FixedTimeEquals.</summary>
    public static bool TokenMatches(string given, string expected)
    {
        ArgumentNullException.ThrowIfNull(given);
        ArgumentNullException.ThrowIfNull(expected);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(given)),
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(expected)));
    }

    /// <summary>Go's path.Clean: collapse repeated slashes, resolve . and .., no trailing slash.</summary>
    public static string CleanPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var parts = new List<string>();
        foreach (var seg in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (seg == ".")
            {
                continue;
            }

            if (seg == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(seg);
        }

        return "/" + string.Join('/', parts);
    }

    public static void MapHealthAndMetadata(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1.0/healthz", (HttpRequest req, SidecarReadiness r, SidecarOptions o) =>
        {
            if (req.Query.TryGetValue("appid", out var appId) && appId.ToString() != o.AppId)
            {
                return HttpErrors.Error(500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match");
            }

            return r.Ready ? Results.NoContent() : HttpErrors.Error(500, "ERR_HEALTH_NOT_READY", "dapr is not ready");
        });
        app.MapGet("/v1.0/healthz/outbound", (SidecarReadiness r) =>
            r.OutboundReady ? Results.NoContent() : HttpErrors.Error(500, "ERR_OUTBOUND_HEALTH_NOT_READY", "dapr outbound is not ready"));
        app.MapGet("/v1.0/metadata", (SidecarMetadata m) => Results.Json(m.ToJson()));
    }
}
