using System.Text;
using System.Text.Json;
using FanVote.Sidecar.Api;

namespace FanVote.Sidecar.State;

/// <summary>The plain HTTP state API (docs/dapr-subset.md §12), for services that do not use the .NET SDK.</summary>
public static class StateServices
{
    public static IServiceCollection AddSidecarState(this IServiceCollection services) =>
        services.AddSingleton<StateGateway>();

    public static WebApplication MapStateHttpApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/v1.0/state/{store}", SaveAsync);
        app.MapGet("/v1.0/state/{store}/{key}", GetAsync);
        app.MapDelete("/v1.0/state/{store}/{key}", DeleteAsync);
        app.MapPost("/v1.0/state/{store}/bulk", BulkGetAsync);
        app.MapPost("/v1.0/state/{store}/transaction", TransactionAsync);
        return app;
    }

    private static async Task<IResult> SaveAsync(string store, HttpRequest request, StateGateway gateway) => await Http(async () =>
    {
        var s = gateway.Store(store);
        using var doc = await ReadJsonAsync(request);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw Malformed("the body must be a JSON array of {key, value, etag?, metadata?, options?}");
        }

        // Request-level metadata (`?metadata.ttlInSeconds=30`) applies to every item and wins over the item's own (daprd).
        var requestMetadata = QueryMetadata(request);
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            var write = ToWrite(gateway, s, item);
            if (requestMetadata.Count > 0)
            {
                var merged = new Dictionary<string, string>(write.Metadata, StringComparer.Ordinal);
                foreach (var (k, v) in requestMetadata)
                {
                    merged[k] = v;
                }

                write = write with { Metadata = merged };
            }

            await gateway.RunAsync(store, "ERR_STATE_SAVE", "saving state", () => s.SetAsync(write, request.HttpContext.RequestAborted));
        }

        return Results.NoContent();
    });

    private static async Task<IResult> GetAsync(string store, string key, HttpContext ctx, StateGateway gateway) => await Http(async () =>
    {
        var s = gateway.Store(store);
        var entry = await gateway.RunAsync(store, "ERR_STATE_GET", $"getting state with key {key}", () => s.GetAsync(gateway.Key(s, key), ctx.RequestAborted));
        if (entry is null)
        {
            return Results.NoContent();
        }

        ctx.Response.Headers.ETag = entry.ETag;
        foreach (var (k, v) in entry.Metadata)
        {
            ctx.Response.Headers[$"metadata.{k}"] = v;
        }

        return Results.Bytes(entry.Value, "application/json");
    });

    private static async Task<IResult> DeleteAsync(string store, string key, HttpRequest request, StateGateway gateway) => await Http(async () =>
    {
        var s = gateway.Store(store);
        var etag = request.Headers.IfMatch.ToString() is { Length: > 0 } e ? e.Trim('"') : null;
        var delete = new StateDelete(gateway.Key(s, key), etag, QueryMetadata(request), Concurrency(request.Query["concurrency"].ToString()));
        await gateway.RunAsync(store, "ERR_STATE_DELETE", $"deleting state with key {key}", () => s.DeleteAsync(delete, request.HttpContext.RequestAborted));
        return Results.NoContent();
    });

    private static async Task<IResult> BulkGetAsync(string store, HttpRequest request, StateGateway gateway) => await Http(async () =>
    {
        var s = gateway.Store(store);
        using var doc = await ReadJsonAsync(request);
        if (!doc.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            throw Malformed("the body must be {\"keys\": [...], \"parallelism\": n}");
        }

        var result = new List<object>();
        foreach (var k in keys.EnumerateArray().Select(k => k.GetString() ?? ""))
        {
            try
            {
                var entry = await s.GetAsync(gateway.Key(s, k), request.HttpContext.RequestAborted);
                result.Add(entry is null
                    ? new { key = k }
                    : new { key = k, data = JsonData(entry.Value), etag = entry.ETag, metadata = entry.Metadata });
            }
            catch (Exception e) when (e is not OperationCanceledException and not StateApiException)
            {
                result.Add(new { key = k, error = e.Message });
            }
        }

        return Results.Json(result);
    });

    private static async Task<IResult> TransactionAsync(string store, HttpRequest request, StateGateway gateway) => await Http(async () =>
    {
        var s = gateway.Store(store);
        using var doc = await ReadJsonAsync(request);
        if (!doc.RootElement.TryGetProperty("operations", out var opsJson) || opsJson.ValueKind != JsonValueKind.Array)
        {
            throw Malformed("the body must be {\"operations\": [{\"operation\": \"upsert\"|\"delete\", \"request\": {...}}]}");
        }

        var ops = new List<StateOperation>();
        foreach (var op in opsJson.EnumerateArray())
        {
            var kind = op.TryGetProperty("operation", out var o) ? o.GetString() : null;
            if (!op.TryGetProperty("request", out var req))
            {
                throw Malformed("every operation needs a request");
            }

            ops.Add(kind switch
            {
                "upsert" => new UpsertOperation(ToWrite(gateway, s, req)),
                "delete" => new DeleteOperation(new StateDelete(gateway.Key(s, Str(req, "key") ?? ""), Str(req, "etag"), Meta(req), Concurrency(Options(req, "concurrency")))),
                _ => throw new StateApiException(StateFailure.BadRequest, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {kind} not supported"),
            });
        }

        try
        {
            await gateway.RunAsync(store, "ERR_STATE_TRANSACTION", "executing the transaction", () => s.ExecuteTransactionAsync(ops, request.HttpContext.RequestAborted));
        }
        catch (StateApiException e) when (e.Failure == StateFailure.ETagMismatch)
        {
            // daprd answers 500 ERR_STATE_TRANSACTION for an etag mismatch inside a transaction (409 is for single saves and deletes).
            throw new StateApiException(StateFailure.StoreError, e.ErrorCode, e.Message, e);
        }

        return Results.NoContent();
    });

    private static StateWrite ToWrite(StateGateway gateway, IStateStore store, JsonElement item)
    {
        var key = Str(item, "key") ?? throw Malformed("every item needs a key");
        if (!item.TryGetProperty("value", out var value))
        {
            throw Malformed($"item {key} has no value");
        }

        // A JSON string value is stored as its JSON text, like every other value (what daprd stores for HTTP saves).
        var bytes = Encoding.UTF8.GetBytes(value.GetRawText());
        return new StateWrite(gateway.Key(store, key), bytes, Str(item, "etag"), Meta(item),
            Concurrency(Options(item, "concurrency")), Options(item, "consistency") == "strong" ? StateConsistency.Strong : StateConsistency.Unspecified);
    }

    private static async Task<IResult> Http(Func<Task<IResult>> call)
    {
        try
        {
            return await call();
        }
        catch (StateApiException e)
        {
            var status = e.Failure switch
            {
                StateFailure.ETagMismatch => StatusCodes.Status409Conflict,
                StateFailure.StoreNotFound or StateFailure.BadRequest or StateFailure.ETagInvalid => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status500InternalServerError,
            };
            return HttpErrors.Error(status, e.ErrorCode, e.Message);
        }
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpRequest request)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            throw Malformed($"the body is not valid JSON: {e.Message}");
        }
    }

    private static StateApiException Malformed(string message) => new(StateFailure.BadRequest, "ERR_MALFORMED_REQUEST", message);

    private static object? JsonData(byte[] value)
    {
        try
        {
            return JsonDocument.Parse(value).RootElement.Clone();
        }
        catch (JsonException)
        {
            return Encoding.UTF8.GetString(value);
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Options(JsonElement e, string name) =>
        e.TryGetProperty("options", out var o) && o.ValueKind == JsonValueKind.Object ? Str(o, name) : null;

    private static Dictionary<string, string> Meta(JsonElement e) =>
        e.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object
            ? m.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText(), StringComparer.Ordinal)
            : [];

    private static Dictionary<string, string> QueryMetadata(HttpRequest r) =>
        r.Query.Where(q => q.Key.StartsWith("metadata.", StringComparison.Ordinal))
            .ToDictionary(q => q.Key["metadata.".Length..], q => q.Value.ToString(), StringComparer.Ordinal);

    private static StateConcurrency Concurrency(string? s) => s switch
    {
        "first-write" => StateConcurrency.FirstWrite,
        "last-write" => StateConcurrency.LastWrite,
        _ => StateConcurrency.Unspecified,
    };
}
