using Dapr.Client;
using FanVote.Contracts;
using FanVote.ServiceDefaults.Auth;
using FanVote.ServiceDefaults.Transport;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace FanVote.ServiceDefaults;

/// <summary>
/// The shared setup of every FanVote service (after eShop.ServiceDefaults). Health endpoints are mapped in
/// every environment: the launcher, daprd's app health check and Kubernetes probes all need them.
/// </summary>
public static class FanVoteDefaults
{
    /// <summary>Health check tag: part of readiness (/healthz), not liveness (/alive).</summary>
    public const string ReadyTag = "ready";

    /// <summary>Health check tag: liveness (/alive).</summary>
    public const string LiveTag = "live";

    /// <summary>The reverse proxies (CIDRs) whose X-Forwarded-For is believed; empty: none (the connection's address counts).</summary>
    public const string TrustedProxiesSetting = "FANVOTE_TRUSTED_PROXIES";

    /// <summary>
    /// Serilog, web JSON, problem details, DaprClient, health checks, metrics, traces (<see cref="FanVoteTracing"/>), the keys of the process, and who may call
    /// what (<see cref="FanVoteAuth"/>: every route is for the app's sidecar unless it says otherwise), for app <paramref name="appId"/>.
    /// </summary>
    public static WebApplicationBuilder AddFanVoteDefaults(this WebApplicationBuilder builder, string appId)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(new FanVoteAppId(appId));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddKeySet();
        builder.Services.AddKeysInUse();
        builder.AddAppTokenAuth();
        builder.AddFanAppCors();
        builder.Services.Configure<RouteOptions>(o => o.SetParameterPolicy<IdRouteConstraint>(IdRouteConstraint.Name));
        builder.Services.AddExceptionHandler<BadRequestHandler>();
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            // X-Forwarded-For is believed only from the reverse proxies in FANVOTE_TRUSTED_PROXIES (CIDRs, comma-separated),
            // one hop: a client cannot choose the address its limits and fraud features are counted against.
            var cidrs = (builder.Configuration[TrustedProxiesSetting] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            o.ForwardLimit = 1;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var cidr in cidrs)
            {
                o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(cidr));
            }

            // With no known proxy at all the middleware would believe every peer's header: none set, none read.
            o.ForwardedHeaders = cidrs.Length > 0 ? ForwardedHeaders.XForwardedFor : ForwardedHeaders.None;
        });
        builder.Services.AddSerilog((services, log) => ConfigureSerilog(log, appId, builder.Configuration["FANVOTE_LOG_FORMAT"]));
        CachingLoggerFactory.Wrap(builder.Services);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = FanVoteJson.Options.PropertyNamingPolicy;
            o.SerializerOptions.PropertyNameCaseInsensitive = true;
        });
        // Problems ASP.NET Core writes itself (a body over an endpoint's limit, a wrong content type) carry only a title:
        // give them a reason a person can act on, as every problem FanVote writes has.
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Detail ??= c.ProblemDetails.Status switch
        {
            StatusCodes.Status413PayloadTooLarge => "The request body is larger than this endpoint accepts: send a smaller body.",
            StatusCodes.Status415UnsupportedMediaType => "Send the body as JSON (Content-Type: application/json).",
            _ => null,
        });
        builder.Services.AddDaprClient(c => c.UseJsonSerializationOptions(FanVoteJson.Options));
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag])
            .AddCheck<DaprSidecarHealthCheck>("dapr-sidecar", tags: [ReadyTag]);
        builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddMeter("FanVote.*")
            .AddPrometheusExporter());
        builder.AddFanVoteTracing(appId);
        return builder;
    }

    /// <summary>
    /// /healthz (ready: sidecar and stores) and /alive (the process answers) for anyone, with each check's detail only
    /// for the sidecar; /metrics (Prometheus text) for the sidecar's token only (Prometheus sends it as a bearer token).
    /// </summary>
    public static WebApplication MapFanVoteDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A malformed or oversized request is the client's mistake, answered 400/413 by BadRequestHandler: not an error to log.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages();
        // Ready only when every check is Healthy: Degraded (a warm-up still running, WarmUp.cs) is not ready either.
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = _ => true,
            ResponseWriter = WriteHealth,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).AllowAnonymous();
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = c => c.Tags.Contains(LiveTag), ResponseWriter = WriteHealth }).AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapPublicApiDocument();
        return app;
    }

    /// <summary>Runs the app; a start-up or fatal error is logged as critical and the logs are flushed.</summary>
    public static int RunFanVote(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            app.Run();
            return 0;
        }
        catch (Exception e) when (e is not OperationCanceledException && e.GetType().Name != "HostAbortedException")
        {
            Log.Fatal(e, "{AppId} stopped unexpectedly", app.Services.GetRequiredService<FanVoteAppId>().Value);
            return 1;
        }
        finally
        {
            Log.CloseAndFlush();
        }
    }

    internal static void ConfigureSerilog(LoggerConfiguration log, string appId, string? format)
    {
        log.MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("app_id", appId);
        if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            log.WriteTo.Console(new RenderedCompactJsonFormatter());
        }
        else
        {
            log.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} [{app_id}] {Message:lj} {Properties:j}{NewLine}{Exception}");
        }
    }

    private static async Task WriteHealth(HttpContext ctx, HealthReport report)
    {
        ctx.Response.ContentType = "application/json";
        if (!(await ctx.AuthenticateAsync(FanVoteAuth.AppTokenScheme)).Succeeded)
        {
            // Probes need only the status; which stores an app uses and why they fail is for the platform.
            await ctx.Response.WriteAsJsonAsync(new { status = report.Status.ToString() });
            return;
        }

        await ctx.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
    }
}

/// <summary>The Dapr app id of the running service.</summary>
public sealed record FanVoteAppId(string Value);

/// <summary>Ready only when the Dapr sidecar says it is (components loaded, app channel up).</summary>
internal sealed class DaprSidecarHealthCheck(DaprClient dapr) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await dapr.CheckOutboundHealthAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("the Dapr sidecar is not ready (start it with ./fanvote up, or check its log)");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return HealthCheckResult.Unhealthy("the Dapr sidecar cannot be reached", e);
        }
    }
}
