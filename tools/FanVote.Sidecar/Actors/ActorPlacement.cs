using System.Collections.Concurrent;
using System.Text.Json;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.State;

namespace FanVote.Sidecar.Actors;

/// <summary>One row of the placement table: which app (and which sidecar address) hosts an actor type.</summary>
public sealed record PlacementEntry(string AppId, string Address, DateTimeOffset HeartbeatAt);

/// <summary>
/// daprd's placement service, reduced to what one machine needs: the sidecar whose app hosts a type writes
/// `fanvote-placement||&lt;type&gt;` into the actor state store (with a TTL, refreshed by a heartbeat), and any
/// sidecar resolves a type by reading it. One type has one hosting app: a second live app claiming it is a
/// start-up error (daprd would hash actor ids over both; the local sidecar does not, by design).
/// </summary>
public sealed class ActorPlacement(ComponentRegistry registry, SidecarOptions options, TimeProvider time)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, (PlacementEntry? Entry, DateTimeOffset At)> _cache = new(StringComparer.Ordinal);

    public string OwnAddress => $"http://{(options.ListenAddress is "0.0.0.0" or "localhost" ? "127.0.0.1" : options.ListenAddress)}:{options.DaprHttpPort}";

    private IStateStore Store => registry.ActorStateStore ?? throw new ActorApiException(500, "ERR_ACTOR_RUNTIME_NOT_FOUND", "actor runtime is not configured: no state store has actorStateStore: \"true\"");

    private static string Key(string type) => "fanvote-placement||" + type;

    /// <summary>Claims the types for this app; throws when another live app already hosts one of them.</summary>
    public async Task ClaimAsync(IReadOnlyCollection<string> types, CancellationToken ct)
    {
        foreach (var t in types)
        {
            var current = await ReadAsync(t, ct);
            if (current is not null && current.AppId != options.AppId && time.GetUtcNow() - current.HeartbeatAt < Ttl)
            {
                throw new InvalidOperationException(
                    $"actor type '{t}' is already hosted by app '{current.AppId}' ({current.Address}); the local sidecar places each actor type on one app. " +
                    "Stop the other app or host the type in one app only.");
            }
        }

        await RefreshAsync(types, ct);
    }

    public async Task RefreshAsync(IReadOnlyCollection<string> types, CancellationToken ct)
    {
        var entry = new PlacementEntry(options.AppId, OwnAddress, time.GetUtcNow());
        var bytes = JsonSerializer.SerializeToUtf8Bytes(entry, JsonSerializerOptions.Web);
        var meta = new Dictionary<string, string> { ["ttlInSeconds"] = ((int)Ttl.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var t in types)
        {
            await Store.SetAsync(new StateWrite(Key(t), bytes, null, meta), ct);
        }
    }

    /// <summary>The hosting sidecar of <paramref name="type"/>, or null when no app hosts it.</summary>
    public async Task<PlacementEntry?> LookupAsync(string type, CancellationToken ct)
    {
        if (_cache.TryGetValue(type, out var cached) && time.GetUtcNow() - cached.At < CacheFor && cached.Entry is not null)
        {
            return cached.Entry;
        }

        var entry = await ReadAsync(type, ct);
        _cache[type] = (entry, time.GetUtcNow());
        return entry;
    }

    public void Forget(string type) => _cache.TryRemove(type, out _);

    private async Task<PlacementEntry?> ReadAsync(string type, CancellationToken ct)
    {
        var e = await Store.GetAsync(Key(type), ct);
        return e is null ? null : JsonSerializer.Deserialize<PlacementEntry>(e.Value, JsonSerializerOptions.Web);
    }
}

/// <summary>An actor API failure with daprd's status and error code.</summary>
public sealed class ActorApiException(int status, string errorCode, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string ErrorCode { get; } = errorCode;
}
