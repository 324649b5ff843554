using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FanVote.ServiceDefaults;

/// <summary>
/// Traces, the one way every FanVote host sets them up: off unless an OTLP endpoint is configured with the standard
/// <c>OTEL_*</c> variables (<see cref="Enabled"/>); then ASP.NET Core, HttpClient (which carries DaprClient's gRPC and
/// HTTP calls to the sidecar), Npgsql, StackExchange.Redis and FanVote's own spans go to that endpoint. The W3C <c>traceparent</c> travels
/// to the sidecar on each call, the sidecar puts it into the CloudEvent, and a subscriber continues the trace from there
/// (<see cref="Parse"/>, <see cref="StartForMany"/>), so one trace follows a vote from ingress to the ledger and on to
/// the live results.
/// </summary>
public static class FanVoteTracing
{
    /// <summary>FanVote's own spans (publish a batch, deliver a batch, publish a tally).</summary>
    public const string SourceName = "FanVote";

    /// <summary>A batch span links at most this many of the traces it carries besides its parent (a span's size stays bounded).</summary>
    public const int MaxLinks = 32;

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>Whether anything records FanVote's spans: false when tracing is off, so the hot path skips all of it.</summary>
    public static bool IsOn => Source.HasListeners();

    /// <summary>
    /// True when an OTLP endpoint is set (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>)
    /// and tracing is not switched off (<c>OTEL_SDK_DISABLED=true</c> or <c>OTEL_TRACES_EXPORTER=none</c>).
    /// </summary>
    public static bool Enabled(IConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (string.Equals(config["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase)
            || string.Equals(config["OTEL_TRACES_EXPORTER"], "none", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return !string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_ENDPOINT"]) || !string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
    }

    /// <summary>
    /// Traces for app <paramref name="appId"/> when <see cref="Enabled"/>: the service name is <c>OTEL_SERVICE_NAME</c> or
    /// the app id; health and metrics scrapes make no spans. The exporter reads the other <c>OTEL_EXPORTER_OTLP_*</c>
    /// and <c>OTEL_BSP_*</c> variables itself, the sampler <c>OTEL_TRACES_SAMPLER</c> (parent-based, always on by default).
    /// </summary>
    public static WebApplicationBuilder AddFanVoteTracing(this WebApplicationBuilder builder, string appId)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!Enabled(builder.Configuration))
        {
            return builder;
        }

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : appId;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t => t
                .AddSource(SourceName, "Npgsql", "Grpc.Net.Client")
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsScrape(ctx.Request.Path))
                .AddHttpClientInstrumentation()
                .AddRedisInstrumentation() // the host's IConnectionMultiplexer, when it registers one (ingress)
                .AddOtlpExporter());
        return builder;
    }

    /// <summary>A W3C traceparent read into a context; null when absent or malformed (a bad one is ignored, never an error).</summary>
    public static ActivityContext? Parse(string? traceparent) =>
        traceparent is { Length: > 0 } && ActivityContext.TryParse(traceparent, null, isRemote: true, out var context) ? context : null;

    /// <summary>
    /// A span for work done for many traces at once (a batch): its parent is the first of <paramref name="contexts"/>, the
    /// others (up to <see cref="MaxLinks"/>) are links; with none, a span of its own trace. Null when tracing is off.
    /// </summary>
    public static Activity? StartForMany(string name, ActivityKind kind, IReadOnlyList<ActivityContext> contexts)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        if (!IsOn)
        {
            return null;
        }

        if (contexts.Count == 0)
        {
            return Source.StartActivity(name, kind);
        }

        List<ActivityLink>? links = null;
        for (var i = 1; i < contexts.Count && i <= MaxLinks; i++)
        {
            if (contexts[i].TraceId != contexts[0].TraceId)
            {
                (links ??= []).Add(new ActivityLink(contexts[i]));
            }
        }

        var activity = Source.StartActivity(name, kind, contexts[0], links: links);
        activity?.SetTag("fanvote.batch.traces", contexts.Count);
        return activity;
    }

    private static bool IsScrape(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/alive") || path.StartsWithSegments("/metrics");
}
