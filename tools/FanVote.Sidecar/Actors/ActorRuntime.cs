using System.Collections.Concurrent;
using System.Net;
using System.Text;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.Hosting;

namespace FanVote.Sidecar.Actors;

/// <summary>An actor active on this host: its turn lock, last use and in-memory timers.</summary>
public sealed class ActiveActor(string type, string id, DateTimeOffset now)
{
    public string Type { get; } = type;

    public string Id { get; } = id;

    public TurnLock Turn { get; } = new();

    public DateTimeOffset LastUsed { get; private set; } = now;

    public ConcurrentDictionary<string, ActorTimer> Timers { get; } = new(StringComparer.Ordinal);

    public void Touch(DateTimeOffset now) => LastUsed = now;
}

/// <summary>A timer as registered; the strings are echoed unchanged to the app (docs/dapr-subset.md §4.4).</summary>
public sealed record ActorTimer(string Name, string Callback, string? DataJson, string DueTime, string Period, string Ttl, CancellationTokenSource Stop);

/// <summary>The answer of an actor call, relayed to the caller as is.</summary>
public sealed record ActorCallResult(int Status, byte[] Body, string? ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>
/// The hosting side of the actor runtime (docs/dapr-subset.md §7): which types this app hosts, which actors are
/// active, turn-based calls into the app, timers, and idle deactivation.
/// </summary>
public sealed class ActorRuntime(AppChannel channel, SidecarMetadata metadata, TimeProvider time, ILogger<ActorRuntime> log)
{
    private readonly ConcurrentDictionary<(string Type, string Id), ActiveActor> _active = new();

    public ActorConfig Config { get; private set; } = ActorConfig.None;

    public bool Hosts(string type) => Config.Types.ContainsKey(type);

    public void Configure(ActorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        metadata.HostedActorTypes = [.. config.Types.Keys];
        // Every hosted type, idle ones with 0, as daprd's actor table reports them.
        metadata.ActiveActors = () => config.Types.Keys.ToDictionary(t => t, t => _active.Keys.Count(k => k.Type == t), StringComparer.Ordinal);
        metadata.ActorRuntimeStatus = config.Types.Count > 0 ? "RUNNING" : "DISABLED";
    }

    public bool IsActive(string type, string id) => _active.ContainsKey((type, id));

    public ActiveActor Activate(string type, string id)
    {
        var a = _active.GetOrAdd((type, id), k => new ActiveActor(k.Type, k.Id, time.GetUtcNow()));
        a.Touch(time.GetUtcNow());
        return a;
    }

    /// <summary>
    /// Runs one callback into the app inside the actor's turn. <paramref name="reentrancyId"/> is the caller's
    /// `Dapr-Reentrancy-Id` (null for a new chain; one is minted when the type allows reentrancy).
    /// </summary>
    public async Task<ActorCallResult> CallAsync(
        string type, string id, string appPath, byte[] body, string? contentType, IReadOnlyList<KeyValuePair<string, string>> headers,
        string? reentrancyId, CancellationToken ct)
    {
        var cfg = Config.Types[type];
        var actor = Activate(type, id);
        if (cfg.Reentrancy)
        {
            reentrancyId ??= Guid.NewGuid().ToString();
        }
        else
        {
            reentrancyId = null;
        }

        using var turn = await actor.Turn.EnterAsync(reentrancyId, cfg.MaxStackDepth, ct)
            ?? throw new ActorApiException(500, "ERR_ACTOR_STACK_DEPTH", $"maximum stack depth of {cfg.MaxStackDepth} exceeded for reentrant actor {type}/{id}");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, appPath) { Content = new ByteArrayContent(body) };
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            foreach (var (k, v) in headers)
            {
                request.Headers.TryAddWithoutValidation(k, v);
            }

            if (reentrancyId is not null)
            {
                request.Headers.TryAddWithoutValidation("Dapr-Reentrancy-Id", reentrancyId);
            }

            using var response = await channel.SendAsync(request, ct);
            var bytes = await response.Content.ReadAsByteArrayAsync(ct);
            var relay = response.Headers
                .Where(h => h.Key.StartsWith("X-Dapr", StringComparison.OrdinalIgnoreCase))
                .Select(h => new KeyValuePair<string, string>(h.Key, string.Join(",", h.Value)))
                .ToList();
            return new ActorCallResult((int)response.StatusCode, bytes, response.Content.Headers.ContentType?.ToString(), relay);
        }
        catch (HttpRequestException e)
        {
            throw new ActorApiException(500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: failed to reach the app: {e.Message}");
        }
        finally
        {
            actor.Touch(time.GetUtcNow());
        }
    }

    /// <summary>Method invocation as daprd answers it: 200 relayed; any other app status is ERR_ACTOR_INVOKE_METHOD.</summary>
    public async Task<ActorCallResult> InvokeMethodAsync(
        string type, string id, string method, byte[] body, string? contentType, IReadOnlyList<KeyValuePair<string, string>> headers,
        string? reentrancyId, CancellationToken ct)
    {
        var r = await CallAsync(type, id, $"actors/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}/method/{Uri.EscapeDataString(method)}", body, contentType, headers, reentrancyId, ct);
        if (r.Status != (int)HttpStatusCode.OK)
        {
            throw new ActorApiException(500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: error from actor service: ({r.Status}) {Encoding.UTF8.GetString(r.Body)}");
        }

        return r;
    }

    public void RegisterTimer(string type, string id, ActorTimer timer)
    {
        var actor = Activate(type, id);
        if (actor.Timers.TryRemove(timer.Name, out var old))
        {
            old.Stop.Cancel();
            old.Stop.Dispose();
        }

        actor.Timers[timer.Name] = timer;
        _ = RunTimerAsync(actor, timer);
    }

    public bool UnregisterTimer(string type, string id, string name)
    {
        if (_active.TryGetValue((type, id), out var actor) && actor.Timers.TryRemove(name, out var t))
        {
            t.Stop.Cancel();
            return true;
        }

        return false;
    }

    /// <summary>Deactivates actors idle longer than their type's idle timeout; runs until <paramref name="stop"/>.</summary>
    public async Task RunIdleScanAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500), time);
        while (await timer.WaitForNextTickAsync(stop))
        {
            var now = time.GetUtcNow();
            foreach (var actor in _active.Values)
            {
                if (!Config.Types.TryGetValue(actor.Type, out var cfg) || actor.Turn.IsBusy || now - actor.LastUsed < cfg.IdleTimeout)
                {
                    continue;
                }

                await DeactivateAsync(actor, stop);
            }
        }
    }

    private async Task DeactivateAsync(ActiveActor actor, CancellationToken ct)
    {
        using var turn = await actor.Turn.EnterAsync(null, 1, ct);
        if (time.GetUtcNow() - actor.LastUsed < Config.Types[actor.Type].IdleTimeout)
        {
            return; // used while we waited for the turn
        }

        _active.TryRemove((actor.Type, actor.Id), out _);
        foreach (var t in actor.Timers.Values)
        {
            t.Stop.Cancel();
        }

        actor.Timers.Clear();
        ActorLog.Deactivating(log, actor.Type, actor.Id);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, $"actors/{Uri.EscapeDataString(actor.Type)}/{Uri.EscapeDataString(actor.Id)}");
            using var _ = await channel.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            ActorLog.DeactivateFailed(log, actor.Type, actor.Id, e.Message);
        }
    }

    private async Task RunTimerAsync(ActiveActor actor, ActorTimer timer)
    {
        var ct = timer.Stop.Token;
        var now = time.GetUtcNow();
        if (!Durations.TryParseDueTime(timer.DueTime, now, out var due))
        {
            due = TimeSpan.Zero;
        }

        TimeSpan? period = null;
        int? repetitions = null;
        if (Durations.TryParsePeriod(timer.Period, out var p, out var reps) && p > TimeSpan.Zero)
        {
            period = p;
            repetitions = reps;
        }

        DateTimeOffset? expires = Durations.TryParseDueTime(timer.Ttl, now, out var ttl) && !string.IsNullOrEmpty(timer.Ttl) ? now + ttl : null;
        try
        {
            await Task.Delay(due, time, ct);
            while (!ct.IsCancellationRequested)
            {
                if (expires is { } end && time.GetUtcNow() >= end)
                {
                    break;
                }

                var body = Encoding.UTF8.GetBytes(
                    $$"""{"callback":{{System.Text.Json.JsonSerializer.Serialize(timer.Callback)}}{{(timer.DataJson is null ? "" : ",\"data\":" + timer.DataJson)}},"dueTime":{{System.Text.Json.JsonSerializer.Serialize(timer.DueTime)}},"period":{{System.Text.Json.JsonSerializer.Serialize(timer.Period)}}}""");
                try
                {
                    var r = await CallAsync(actor.Type, actor.Id, $"actors/{Uri.EscapeDataString(actor.Type)}/{Uri.EscapeDataString(actor.Id)}/method/timer/{Uri.EscapeDataString(timer.Name)}",
                        body, "application/json", [], null, ct);
                    if (r.Status != 200)
                    {
                        ActorLog.TimerFailed(log, actor.Type, actor.Id, timer.Name, $"app answered {r.Status}");
                    }

                    if (r.Headers.Any(h => h.Key.Equals("X-DaprReminderCancel", StringComparison.OrdinalIgnoreCase) && h.Value == "true"))
                    {
                        break;
                    }
                }
                catch (ActorApiException e)
                {
                    ActorLog.TimerFailed(log, actor.Type, actor.Id, timer.Name, e.Message);
                }

                if (period is null)
                {
                    break;
                }

                if (repetitions is not null && --repetitions <= 0)
                {
                    break;
                }

                await Task.Delay(period.Value, time, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            actor.Timers.TryRemove(new KeyValuePair<string, ActorTimer>(timer.Name, timer));
        }
    }
}
