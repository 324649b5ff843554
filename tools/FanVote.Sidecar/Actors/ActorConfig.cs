using System.Text.Json;
using FanVote.Sidecar.Configuration;

namespace FanVote.Sidecar.Actors;

/// <summary>Per-type settings from the app's `GET /dapr/config` (docs/dapr-subset.md §4.4).</summary>
public sealed record ActorTypeConfig(string Type, TimeSpan IdleTimeout, bool Reentrancy, int MaxStackDepth);

/// <summary>What `GET /dapr/config` says; defaults as daprd's (idle 60 min, drain 2 s... reentrancy off, depth 32).</summary>
public sealed record ActorConfig(IReadOnlyDictionary<string, ActorTypeConfig> Types, TimeSpan DrainOngoingCallTimeout)
{
    public static readonly ActorConfig None = new(new Dictionary<string, ActorTypeConfig>(), TimeSpan.FromSeconds(2));

    public static ActorConfig Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var idle = Duration(root, "actorIdleTimeout") ?? TimeSpan.FromMinutes(60);
        var drain = Duration(root, "drainOngoingCallTimeout") ?? TimeSpan.FromSeconds(2);
        var (reentrant, depth) = Reentrancy(root, false, 32);
        var types = new Dictionary<string, ActorTypeConfig>(StringComparer.Ordinal);
        foreach (var t in Strings(root, "entities"))
        {
            types[t] = new ActorTypeConfig(t, idle, reentrant, depth);
        }

        if (Prop(root, "entitiesConfig") is { ValueKind: JsonValueKind.Array } configs)
        {
            foreach (var c in configs.EnumerateArray())
            {
                var typeIdle = Duration(c, "actorIdleTimeout") ?? idle;
                var (r, d) = Reentrancy(c, reentrant, depth);
                foreach (var t in Strings(c, "entities"))
                {
                    types[t] = new ActorTypeConfig(t, typeIdle, r, d);
                }
            }
        }

        return new ActorConfig(types, drain);
    }

    private static (bool, int) Reentrancy(JsonElement e, bool enabled, int depth)
    {
        if (Prop(e, "reentrancy") is { ValueKind: JsonValueKind.Object } r)
        {
            enabled = Prop(r, "enabled") is { ValueKind: JsonValueKind.True };
            if (Prop(r, "maxStackDepth") is { ValueKind: JsonValueKind.Number } n)
            {
                depth = n.GetInt32();
            }
        }

        return (enabled, depth);
    }

    private static TimeSpan? Duration(JsonElement e, string name) =>
        Prop(e, name) is { ValueKind: JsonValueKind.String } s && Durations.TryParse(s.GetString(), out var d) ? d : null;

    private static IEnumerable<string> Strings(JsonElement e, string name) =>
        Prop(e, name) is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().Select(x => x.GetString() ?? "").Where(x => x.Length > 0) : [];

    /// <summary>Case-insensitive property lookup (the SDK writes camelCase; be lenient like daprd's JSON decoding).</summary>
    private static JsonElement? Prop(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var p in e.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value;
            }
        }

        return null;
    }
}
