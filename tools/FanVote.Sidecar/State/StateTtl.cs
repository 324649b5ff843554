using System.Globalization;
using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.State;

/// <summary>`ttlInSeconds` handling shared by the stores: per-item metadata wins over the component default.</summary>
public static class StateTtl
{
    /// <summary>
    /// Null = no expiry requested (the store keeps or clears an earlier one as Dapr does); -1 = persist;
    /// positive = seconds until expiry.
    /// </summary>
    public static int? Resolve(IReadOnlyDictionary<string, string> itemMetadata, ComponentSpec component)
    {
        ArgumentNullException.ThrowIfNull(itemMetadata);
        ArgumentNullException.ThrowIfNull(component);
        if (itemMetadata.TryGetValue("ttlInSeconds", out var s))
        {
            return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= -1
                ? n
                : throw new ArgumentException($"ttlInSeconds '{s}' is not an integer >= -1");
        }

        return int.TryParse(component.Get("ttlInSeconds"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var d) && d > 0 ? d : null;
    }

    public static Dictionary<string, string> ExpiryMetadata(DateTimeOffset? expiresAt) =>
        expiresAt is { } at
            ? new Dictionary<string, string> { ["ttlExpireTime"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) }
            : [];
}
