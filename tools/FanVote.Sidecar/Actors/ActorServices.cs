using System.Text.Json;
using FanVote.Sidecar.Api;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.Hosting;
using FanVote.Sidecar.State;

namespace FanVote.Sidecar.Actors;

/// <summary>DI and the HTTP actor API that Dapr.Actors uses (docs/dapr-subset.md §3.2): all of it is HTTP.</summary>
public static class ActorServices
{
    private static readonly HttpClient Forwarder = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    public static IServiceCollection AddSidecarActors(this IServiceCollection services)
    {
        services.AddSingleton<ActorRuntime>();
        services.AddSingleton<ActorPlacement>();
        services.AddSingleton<ActorReminders>();
        services.AddSingleton<IAppStartupParticipant, ActorStartup>();
        return services;
    }

    public static WebApplication MapActorsHttpApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        const string Base = "/v1.0/actors/{type}/{id}";
        app.MapMethods(Base + "/method/{method}", ["PUT", "POST", "GET", "DELETE"], InvokeAsync);
        app.MapGet(Base + "/state/{key}", GetStateAsync);
        app.MapMethods(Base + "/state", ["PUT", "POST"], SaveStateAsync);
        app.MapMethods(Base + "/reminders/{name}", ["PUT", "POST"], RegisterReminderAsync);
        app.MapGet(Base + "/reminders/{name}", GetReminder);
        app.MapDelete(Base + "/reminders/{name}", UnregisterReminderAsync);
        app.MapMethods(Base + "/timers/{name}", ["PUT", "POST"], RegisterTimerAsync);
        app.MapDelete(Base + "/timers/{name}", UnregisterTimer);
        return app;
    }

    private static async Task InvokeAsync(HttpContext ctx, string type, string id, string method, ActorRuntime runtime, ActorPlacement placement, SidecarOptions options)
    {
        await Guard(ctx, async () =>
        {
            Validate(type, id, method);
            var body = await ReadBodyAsync(ctx.Request);
            var headers = ctx.Request.Headers
                .Where(h => h.Key.Equals("X-DaprRequestHeader", StringComparison.OrdinalIgnoreCase))
                .Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()))
                .ToList();
            var reentrancy = ctx.Request.Headers["Dapr-Reentrancy-Id"].ToString() is { Length: > 0 } r ? r : null;
            if (runtime.Hosts(type))
            {
                var result = await runtime.InvokeMethodAsync(type, id, method, body, ctx.Request.ContentType, headers, reentrancy, ctx.RequestAborted);
                await RelayAsync(ctx, result);
                return;
            }

            await ForwardAsync(ctx, type, id, method, body, headers, reentrancy, placement, options);
        });
    }

    /// <summary>The type lives in another app: hand the call to that app's sidecar, as daprd does over its internal API.</summary>
    private static async Task ForwardAsync(
        HttpContext ctx, string type, string id, string method, byte[] body, List<KeyValuePair<string, string>> headers, string? reentrancy,
        ActorPlacement placement, SidecarOptions options)
    {
        for (var attempt = 0; ; attempt++)
        {
            var host = await placement.LookupAsync(type, ctx.RequestAborted);
            if (host is null || host.Address == placement.OwnAddress)
            {
                if (attempt < 3)
                {
                    placement.Forget(type);
                    await Task.Delay(TimeSpan.FromSeconds(1), ctx.RequestAborted);
                    continue;
                }

                throw new ActorApiException(404, "ERR_ACTOR_NO_ADDRESS", $"did not find address for actor {type}/{id}: no app hosts actor type {type}");
            }

            using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.Method), $"{host.Address}/v1.0/actors/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}/method/{Uri.EscapeDataString(method)}")
            {
                Content = new ByteArrayContent(body),
            };
            if (ctx.Request.ContentType is { } ct)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ct);
            }

            foreach (var (k, v) in headers)
            {
                request.Headers.TryAddWithoutValidation(k, v);
            }

            if (reentrancy is not null)
            {
                request.Headers.TryAddWithoutValidation("Dapr-Reentrancy-Id", reentrancy);
            }

            if (options.ApiToken is { } token)
            {
                request.Headers.TryAddWithoutValidation("dapr-api-token", token);
            }

            try
            {
                using var response = await Forwarder.SendAsync(request, ctx.RequestAborted);
                var bytes = await response.Content.ReadAsByteArrayAsync(ctx.RequestAborted);
                var relay = response.Headers
                    .Where(h => h.Key.StartsWith("X-Dapr", StringComparison.OrdinalIgnoreCase))
                    .Select(h => new KeyValuePair<string, string>(h.Key, string.Join(",", h.Value)))
                    .ToList();
                await RelayAsync(ctx, new ActorCallResult((int)response.StatusCode, bytes, response.Content.Headers.ContentType?.ToString(), relay));
                return;
            }
            catch (HttpRequestException) when (attempt < 3)
            {
                // The hosting sidecar moved or restarted: look it up again.
                placement.Forget(type);
                await Task.Delay(TimeSpan.FromSeconds(1), ctx.RequestAborted);
            }
        }
    }

    private static async Task GetStateAsync(HttpContext ctx, string type, string id, string key, ComponentRegistry registry, SidecarOptions options)
    {
        await Guard(ctx, async () =>
        {
            Validate(type, id, key);
            var store = ActorStore(registry);
            var entry = await store.GetAsync(StateKeys.ActorKey(options.AppId, type, id, key), ctx.RequestAborted);
            if (entry is null)
            {
                ctx.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            if (entry.Metadata.TryGetValue("ttlExpireTime", out var exp))
            {
                ctx.Response.Headers["metadata.ttlExpireTime"] = exp;
            }

            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(entry.Value, ctx.RequestAborted);
        });
    }

    private static async Task SaveStateAsync(HttpContext ctx, string type, string id, ComponentRegistry registry, SidecarOptions options, ActorRuntime runtime)
    {
        await Guard(ctx, async () =>
        {
            Validate(type, id);
            var store = ActorStore(registry);
            using var doc = await ParseAsync(ctx.Request); // a malformed body is refused first, as daprd decodes before it looks up the actor
            var partition = new Dictionary<string, string> { ["partitionKey"] = $"{options.AppId}||{type}||{id}" };
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw Malformed("the body must be a JSON array of {\"operation\": \"upsert\"|\"delete\", \"request\": {\"key\": ..., \"value\": ...}}");
            }

            var ops = new List<StateOperation>();
            foreach (var op in doc.RootElement.EnumerateArray())
            {
                if (op.ValueKind != JsonValueKind.Object
                    || !op.TryGetProperty("operation", out var operation) || operation.ValueKind != JsonValueKind.String
                    || !op.TryGetProperty("request", out var req) || req.ValueKind != JsonValueKind.Object
                    || !req.TryGetProperty("key", out var keyJson) || keyJson.ValueKind != JsonValueKind.String || keyJson.GetString() is not { Length: > 0 } stateKey)
                {
                    throw Malformed($"every operation needs \"operation\" (a string) and \"request\" with a non-empty string \"key\"; got {op.GetRawText()}");
                }

                var kind = operation.GetString();
                var key = StateKeys.ActorKey(options.AppId, type, id, stateKey);
                var meta = new Dictionary<string, string>(partition);
                if (req.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in m.EnumerateObject())
                    {
                        meta[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                    }
                }

                ops.Add(kind switch
                {
                    "upsert" => new UpsertOperation(new StateWrite(key, System.Text.Encoding.UTF8.GetBytes(req.TryGetProperty("value", out var v) ? v.GetRawText() : "null"), null, meta)),
                    "delete" => new DeleteOperation(new StateDelete(key, null, meta)),
                    _ => throw new ActorApiException(400, "ERR_MALFORMED_REQUEST", $"unknown actor state operation '{kind}'"),
                });
            }

            if (!runtime.IsActive(type, id))
            {
                throw new ActorApiException(400, "ERR_ACTOR_INSTANCE_MISSING", $"actor instance is missing: {type}/{id} is not active on this host");
            }

            try
            {
                await store.ExecuteTransactionAsync(ops, ctx.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException and not ActorApiException)
            {
                throw new ActorApiException(500, "ERR_ACTOR_STATE_TRANSACTION_SAVE", $"error saving actor transaction state: {e.Message}");
            }

            ctx.Response.StatusCode = StatusCodes.Status204NoContent;
        });
    }

    private static async Task RegisterReminderAsync(HttpContext ctx, string type, string id, string name, ActorRuntime runtime, ActorReminders reminders)
    {
        await Guard(ctx, async () =>
        {
            Validate(type, id, name);
            NotHostedGuard(runtime, type, "ERR_ACTOR_REMINDER_NON_HOSTED", 403, "reminder");
            using var doc = await ParseAsync(ctx.Request);
            await reminders.RegisterAsync(type, id, name, doc.RootElement, ctx.RequestAborted);
            ctx.Response.StatusCode = StatusCodes.Status204NoContent;
        });
    }

    private static async Task GetReminder(HttpContext ctx, string type, string id, string name, ActorRuntime runtime, ActorReminders reminders)
    {
        await Guard(ctx, async () =>
        {
            Validate(type, id, name);
            NotHostedGuard(runtime, type, "ERR_ACTOR_REMINDER_NON_HOSTED", 403, "reminder");
            var r = reminders.Get(type, id, name)
                ?? throw new ActorApiException(404, "ERR_ACTOR_REMINDER_NOT_FOUND", $"reminder {name} not found for actor {type}/{id}");
            ctx.Response.ContentType = "application/json";
            var data = r.DataJson ?? "null";
            await ctx.Response.WriteAsync(
                $$"""{"actorID":{{JsonSerializer.Serialize(id)}},"actorType":{{JsonSerializer.Serialize(type)}},"data":{{data}},"dueTime":{{JsonSerializer.Serialize(r.DueTime)}},"period":{{JsonSerializer.Serialize(r.Period)}},"ttl":{{JsonSerializer.Serialize(r.Ttl)}}}""",
                ctx.RequestAborted);
        });
    }

    private static async Task UnregisterReminderAsync(HttpContext ctx, string type, string id, string name, ActorRuntime runtime, ActorReminders reminders)
    {
        await Guard(ctx, async () =>
        {
            Validate(type, id, name);
            NotHostedGuard(runtime, type, "ERR_ACTOR_REMINDER_NON_HOSTED", 403, "reminder");
            await reminders.UnregisterAsync(type, id, name, ctx.RequestAborted);
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("{}", ctx.RequestAborted);
        });
    }

    private static async Task RegisterTimerAsync(HttpContext ctx, string type, string id, string name, ActorRuntime runtime)
    {
        await Guard(ctx, async () =>
        {
            Validate(type, id, name);
            NotHostedGuard(runtime, type, "ERR_ACTOR_TIMER_CREATE", 500, "timer");
            using var doc = await ParseAsync(ctx.Request);
            var b = doc.RootElement;
            string Str(string p) => b.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            var data = b.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null ? d.GetRawText() : null;
            runtime.RegisterTimer(type, id, new ActorTimer(name, Str("callback"), data, Str("dueTime"), Str("period"), Str("ttl"), new CancellationTokenSource()));
            ctx.Response.StatusCode = StatusCodes.Status204NoContent;
        });
    }

    private static IResult UnregisterTimer(string type, string id, string name, ActorRuntime runtime)
    {
        runtime.UnregisterTimer(type, id, name);
        return Results.Ok();
    }

    private static void NotHostedGuard(ActorRuntime runtime, string type, string code, int status, string what)
    {
        if (!runtime.Hosts(type))
        {
            throw new ActorApiException(status, code, $"operations on actor {what}s are only allowed on the app that hosts actor type {type}");
        }
    }

    /// <summary>Names must not contain '#', '?', '/', '\', NUL or control characters, nor be '.' or '..' (§3.2).</summary>
    private static void Validate(params string[] names)
    {
        foreach (var n in names)
        {
            if (string.IsNullOrEmpty(n) || n is "." or ".." || n.Any(c => c is '#' or '?' or '/' or '\\' || char.IsControl(c)))
            {
                throw new ActorApiException(400, "ERR_MALFORMED_REQUEST", $"invalid actor name '{n}': it must not be empty, '.', '..', or contain #, ?, /, \\ or control characters");
            }
        }
    }

    private static ActorApiException Malformed(string message) => new(400, "ERR_MALFORMED_REQUEST", message);

    private static IStateStore ActorStore(ComponentRegistry registry) =>
        registry.ActorStateStore ?? throw new ActorApiException(500, "ERR_ACTOR_RUNTIME_NOT_FOUND", "actor runtime is not configured: no state store has actorStateStore: \"true\"");

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms, request.HttpContext.RequestAborted);
        return ms.ToArray();
    }

    private static async Task<JsonDocument> ParseAsync(HttpRequest request)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new ActorApiException(400, "ERR_MALFORMED_REQUEST", $"the body is not valid JSON: {e.Message}");
        }
    }

    private static async Task RelayAsync(HttpContext ctx, ActorCallResult r)
    {
        ctx.Response.StatusCode = r.Status;
        if (r.ContentType is not null)
        {
            ctx.Response.ContentType = r.ContentType;
        }

        foreach (var (k, v) in r.Headers)
        {
            ctx.Response.Headers[k] = v;
        }

        await ctx.Response.Body.WriteAsync(r.Body, ctx.RequestAborted);
    }

    private static async Task Guard(HttpContext ctx, Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (ActorApiException e)
        {
            if (!ctx.Response.HasStarted)
            {
                await HttpErrors.Error(e.Status, e.ErrorCode, e.Message).ExecuteAsync(ctx);
            }
        }
    }
}

/// <summary>
/// Start-up step (Order 10, before subscriptions): read `GET /dapr/config`, claim the hosted types in the
/// placement table, load persisted reminders, and start the idle scan, reminder scheduler and heartbeat.
/// </summary>
public sealed class ActorStartup(
    AppChannel channel,
    ActorRuntime runtime,
    ActorPlacement placement,
    ActorReminders reminders,
    SidecarMetadata metadata,
    IHostApplicationLifetime lifetime,
    ILogger<ActorStartup> log) : IAppStartupParticipant
{
    public int Order => 10;

    public string Name => "actors (/dapr/config)";

    public async Task OnAppReadyAsync(CancellationToken cancellationToken)
    {
        if (!channel.HasApp)
        {
            metadata.ActorRuntimeStatus = "DISABLED";
            ActorLog.NoActors(log, "no --app-port");
            return;
        }

        string? json = null;
        for (var attempt = 0; attempt < 5 && json is null; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "dapr/config");
                using var response = await channel.SendAsync(request, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    runtime.Configure(ActorConfig.None);
                    var status = $"/dapr/config answered {(int)response.StatusCode}";
                    ActorLog.NoActors(log, status);
                    return;
                }

                json = await response.Content.ReadAsStringAsync(cancellationToken);
            }
            catch (HttpRequestException) when (attempt < 4)
            {
                await Task.Delay(500, cancellationToken);
            }
        }

        var config = ActorConfig.Parse(json ?? "{}");
        runtime.Configure(config);
        if (config.Types.Count == 0)
        {
            ActorLog.NoActors(log, "/dapr/config lists no entities");
            return;
        }

        var types = config.Types.Keys.ToList();
        var list = string.Join(", ", types);
        ActorLog.Hosting(log, list);
        await placement.ClaimAsync(types, cancellationToken);
        await reminders.LoadAsync(cancellationToken);
        var stop = lifetime.ApplicationStopping;
        _ = Loop(() => runtime.RunIdleScanAsync(stop));
        _ = Loop(() => reminders.RunAsync(stop));
        _ = Loop(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(ActorPlacement.Heartbeat, stop);
                try
                {
                    await placement.RefreshAsync(types, stop);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ActorLog.HeartbeatFailed(log, e);
                }
            }
        });
    }

    private static async Task Loop(Func<Task> run)
    {
        try
        {
            await Task.Run(run);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
