using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.State;

namespace FanVote.Sidecar.Actors;

/// <summary>A reminder as persisted: the registered strings (echoed back on GET) plus the schedule state.</summary>
public sealed record ReminderRecord(
    string Type,
    string Id,
    string Name,
    string DueTime,
    string Period,
    string Ttl,
    string? DataJson,
    DateTimeOffset NextFireAt,
    int? RemainingRepetitions,
    DateTimeOffset? ExpiresAt)
{
    public string Key => $"{Type}||{Id}||{Name}";
}

/// <summary>
/// Persistent reminders (docs/dapr-subset.md §7). All reminders of this app live in one key of the actor state store,
/// `&lt;appId&gt;||reminders`, written on every change, so they survive a sidecar kill. A scheduler loop fires due ones
/// inside the actor's turn; a failed callback is retried 3 more times 1 s apart, then that tick is skipped (a
/// one-shot reminder is then deleted). After a restart, overdue reminders fire once at once (catch-up).
/// </summary>
public sealed class ActorReminders(ComponentRegistry registry, SidecarOptions options, ActorRuntime runtime, TimeProvider time, ILogger<ActorReminders> log) : IDisposable
{
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    public const int Retries = 3;

    private readonly ConcurrentDictionary<string, ReminderRecord> _reminders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _saveGate = new(1, 1);

    public void Dispose() => _saveGate.Dispose();

    private IStateStore Store => registry.ActorStateStore ?? throw new ActorApiException(500, "ERR_ACTOR_RUNTIME_NOT_FOUND", "actor runtime is not configured: no state store has actorStateStore: \"true\"");

    private string StorageKey => $"{options.AppId}||reminders";

    public async Task LoadAsync(CancellationToken ct)
    {
        var e = await Store.GetAsync(StorageKey, ct);
        if (e is null)
        {
            return;
        }

        foreach (var r in JsonSerializer.Deserialize<List<ReminderRecord>>(e.Value, JsonSerializerOptions.Web) ?? [])
        {
            _reminders[r.Key] = r;
        }

        ActorLog.RemindersLoaded(log, _reminders.Count);
    }

    public async Task RegisterAsync(string type, string id, string name, JsonElement body, CancellationToken ct)
    {
        string Str(string p) => body.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        var now = time.GetUtcNow();
        var dueTime = Str("dueTime");
        var period = Str("period");
        var ttl = Str("ttl");
        if (!Durations.TryParseDueTime(dueTime, now, out var due))
        {
            throw new ActorApiException(500, "ERR_ACTOR_REMINDER_CREATE", $"error creating actor reminder: invalid dueTime '{dueTime}'");
        }

        int? reps = null;
        if (period.Length > 0 && (!Durations.TryParsePeriod(period, out _, out reps)))
        {
            throw new ActorApiException(500, "ERR_ACTOR_REMINDER_CREATE", $"error creating actor reminder: invalid period '{period}'");
        }

        DateTimeOffset? expires = null;
        if (ttl.Length > 0)
        {
            expires = Durations.TryParseDueTime(ttl, now, out var t)
                ? now + t
                : throw new ActorApiException(500, "ERR_ACTOR_REMINDER_CREATE", $"error creating actor reminder: invalid ttl '{ttl}'");
        }

        var data = body.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null ? d.GetRawText() : null;
        var record = new ReminderRecord(type, id, name, dueTime, period, ttl, data, now + due, reps, expires);
        _reminders[record.Key] = record;
        await SaveAsync(ct);
    }

    public ReminderRecord? Get(string type, string id, string name) =>
        _reminders.TryGetValue($"{type}||{id}||{name}", out var r) ? r : null;

    public async Task UnregisterAsync(string type, string id, string name, CancellationToken ct)
    {
        if (_reminders.TryRemove($"{type}||{id}||{name}", out _))
        {
            await SaveAsync(ct);
        }
    }

    /// <summary>Fires due reminders until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100), time);
        while (await timer.WaitForNextTickAsync(stop))
        {
            var now = time.GetUtcNow();
            foreach (var r in _reminders.Values)
            {
                if (r.NextFireAt <= now && runtime.Hosts(r.Type) && _inFlight.TryAdd(r.Key, 0))
                {
                    _ = FireAsync(r, stop);
                }
            }
        }
    }

    private async Task FireAsync(ReminderRecord r, CancellationToken stop)
    {
        try
        {
            var body = Encoding.UTF8.GetBytes($$"""{"data":{{r.DataJson ?? "null"}},"dueTime":"","period":""}""");
            var path = $"actors/{Uri.EscapeDataString(r.Type)}/{Uri.EscapeDataString(r.Id)}/method/remind/{Uri.EscapeDataString(r.Name)}";
            var cancel = false;
            for (var attempt = 1; attempt <= Retries + 1; attempt++)
            {
                try
                {
                    var result = await runtime.CallAsync(r.Type, r.Id, path, body, "application/json", [], null, stop);
                    if (result.Status == 200)
                    {
                        cancel = result.Headers.Any(h => h.Key.Equals("X-DaprReminderCancel", StringComparison.OrdinalIgnoreCase) && h.Value == "true");
                        break;
                    }

                    ActorLog.ReminderFailed(log, r.Type, r.Id, r.Name, attempt, $"app answered {result.Status}");
                }
                catch (ActorApiException e)
                {
                    ActorLog.ReminderFailed(log, r.Type, r.Id, r.Name, attempt, e.Message);
                }

                if (attempt <= Retries)
                {
                    await Task.Delay(RetryDelay, time, stop);
                }
            }

            await AdvanceAsync(r, cancel, stop);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _inFlight.TryRemove(r.Key, out _);
        }
    }

    /// <summary>Next tick (from now: missed ticks are not replayed), or delete after the last one.</summary>
    private async Task AdvanceAsync(ReminderRecord r, bool cancel, CancellationToken ct)
    {
        if (!_reminders.TryGetValue(r.Key, out var current) || current != r)
        {
            return; // re-registered or deleted while it fired
        }

        var now = time.GetUtcNow();
        var hasPeriod = Durations.TryParsePeriod(r.Period, out var period, out _) && period > TimeSpan.Zero;
        var remaining = r.RemainingRepetitions is { } n ? n - 1 : (int?)null;
        var next = now + period;
        if (cancel || !hasPeriod || remaining is <= 0 || (r.ExpiresAt is { } exp && next >= exp))
        {
            _reminders.TryRemove(new KeyValuePair<string, ReminderRecord>(r.Key, r));
        }
        else
        {
            _reminders.TryUpdate(r.Key, r with { NextFireAt = next, RemainingRepetitions = remaining }, r);
        }

        await SaveAsync(ct);
    }

    private async Task SaveAsync(CancellationToken ct)
    {
        await _saveGate.WaitAsync(ct);
        try
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(_reminders.Values.OrderBy(r => r.Key, StringComparer.Ordinal).ToList(), JsonSerializerOptions.Web);
            await Store.SetAsync(new StateWrite(StorageKey, bytes, null, new Dictionary<string, string>()), ct);
        }
        finally
        {
            _saveGate.Release();
        }
    }
}
