using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.State;

/// <summary>daprd's stored-key layout: `&lt;prefix&gt;||&lt;key&gt;`, prefix chosen by the keyPrefix metadata (§6.4).</summary>
public static class StateKeys
{
    public const string Separator = "||";

    public static string Prefix(ComponentSpec component, string appId, string key)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(key);
        if (key.Contains(Separator, StringComparison.Ordinal))
        {
            throw new ArgumentException($"input key/keyPrefix '{key}' can't contain '{Separator}'", nameof(key));
        }

        var mode = component.GetOr("keyPrefix", "appid");
        var prefix = mode.ToLowerInvariant() switch
        {
            "appid" => appId,
            "name" => component.Name,
            "namespace" => Environment.GetEnvironmentVariable("NAMESPACE") is { Length: > 0 } ns ? $"{ns}.{appId}" : appId,
            "none" => "",
            _ => mode,
        };
        return prefix.Length == 0 ? key : prefix + Separator + key;
    }

    public static string Unprefix(string storedKey)
    {
        ArgumentNullException.ThrowIfNull(storedKey);
        var i = storedKey.IndexOf(Separator, StringComparison.Ordinal);
        return i < 0 ? storedKey : storedKey[(i + Separator.Length)..];
    }

    /// <summary>Actor state key: `appId||actorType||actorId||key` (independent of keyPrefix, as in daprd).</summary>
    public static string ActorKey(string appId, string actorType, string actorId, string key) =>
        string.Join(Separator, appId, actorType, actorId, key);
}
