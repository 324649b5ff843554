using System.Text;
using System.Text.Json;
using FanVote.Sidecar.Api;
using FanVote.Sidecar.Hosting;
using FanVote.Sidecar.Resiliency;

namespace FanVote.Sidecar.PubSub;

/// <summary>DI registration and the plain HTTP publish API (docs/dapr-subset.md §12).</summary>
public static class PubSubServices
{
    public static IServiceCollection AddSidecarPubSub(this IServiceCollection services)
    {
        services.AddSidecarResiliency();
        services.AddSingleton<PubSubPublisher>();
        services.AddSingleton<SubscriptionManager>();
        services.AddSingleton<IAppStartupParticipant>(sp => sp.GetRequiredService<SubscriptionManager>());
        return services;
    }

    public static WebApplication MapPubSubHttpApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/v1.0/publish/{pubsub}/{**topic}", PublishAsync);
        app.MapPost("/v1.0-alpha1/publish/bulk/{pubsub}/{**topic}", BulkPublishAsync);
        app.MapPost("/v1.0/publish/bulk/{pubsub}/{**topic}", BulkPublishAsync);
        return app;
    }

    private static async Task<IResult> PublishAsync(HttpContext ctx, string pubsub, string topic, PubSubPublisher publisher)
    {
        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body, ctx.RequestAborted);
        var request = new PublishRequest(
            pubsub,
            topic,
            body.ToArray(),
            ctx.Request.ContentType,
            QueryMetadata(ctx),
            ctx.Request.Headers["traceparent"].FirstOrDefault(),
            ctx.Request.Headers["tracestate"].FirstOrDefault());
        try
        {
            await publisher.PublishAsync(request, ctx.RequestAborted);
            return Results.NoContent();
        }
        catch (PublishException e)
        {
            return HttpError(e);
        }
    }

    private static async Task<IResult> BulkPublishAsync(HttpContext ctx, string pubsub, string topic, PubSubPublisher publisher)
    {
        List<BulkPublishEntry> entries;
        try
        {
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
            entries = ParseBulkEntries(doc.RootElement);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return HttpErrors.Error(400, "ERR_PUBSUB_EVENTS_SER", $"error when reading the bulk publish request: {e.Message}");
        }

        try
        {
            var failures = await publisher.BulkPublishAsync(
                pubsub,
                topic,
                entries,
                QueryMetadata(ctx),
                ctx.Request.Headers["traceparent"].FirstOrDefault(),
                ctx.Request.Headers["tracestate"].FirstOrDefault(),
                ctx.RequestAborted);
            if (failures.Count == 0)
            {
                return Results.NoContent();
            }

            return Results.Json(
                new
                {
                    errorCode = "ERR_PUBSUB_PUBLISH_MESSAGE",
                    message = $"{failures.Count} of {entries.Count} entries could not be published",
                    failedEntries = failures.Select(f => new { entryId = f.EntryId, error = f.Error }),
                },
                statusCode: 500);
        }
        catch (PublishException e)
        {
            return HttpError(e);
        }
    }

    internal static List<BulkPublishEntry> ParseBulkEntries(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("the body must be a JSON array of {entryId, event, contentType, metadata}");
        }

        var list = new List<BulkPublishEntry>();
        foreach (var e in root.EnumerateArray())
        {
            string? id = null;
            string? contentType = null;
            JsonElement? ev = null;
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in e.EnumerateObject())
            {
                switch (p.Name.ToLowerInvariant())
                {
                    case "entryid":
                        id = p.Value.GetString();
                        break;
                    case "contenttype":
                        contentType = p.Value.GetString();
                        break;
                    case "event":
                        ev = p.Value;
                        break;
                    case "metadata" when p.Value.ValueKind == JsonValueKind.Object:
                        foreach (var m in p.Value.EnumerateObject())
                        {
                            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                        }

                        break;
                    default:
                        break;
                }
            }

            // JSON content types carry the event as JSON; anything else carries it as a string of the raw payload.
            byte[] data = ev switch
            {
                null => [],
                { ValueKind: JsonValueKind.String } s when !CloudEvents.IsJsonMediaType(CloudEvents.MediaType(contentType)) => Encoding.UTF8.GetBytes(s.GetString()!),
                { } v => Encoding.UTF8.GetBytes(v.GetRawText()),
            };
            list.Add(new BulkPublishEntry(id ?? "", data, contentType, metadata));
        }

        return list;
    }

    private static Dictionary<string, string> QueryMetadata(HttpContext ctx)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in ctx.Request.Query)
        {
            if (k.StartsWith("metadata.", StringComparison.Ordinal))
            {
                metadata[k["metadata.".Length..]] = v.ToString();
            }
        }

        return metadata;
    }

    private static IResult HttpError(PublishException e) => e.Error switch
    {
        PublishError.PubsubNotFound => HttpErrors.Error(404, e.ErrorCode, e.Message),
        PublishError.Forbidden => HttpErrors.Error(403, e.ErrorCode, e.Message),
        PublishError.Failed => HttpErrors.Error(500, e.ErrorCode, e.Message),
        _ => HttpErrors.Error(400, e.ErrorCode, e.Message),
    };
}
