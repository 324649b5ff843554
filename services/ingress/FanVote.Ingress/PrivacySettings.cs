using FanVote.Security;

namespace FanVote.Ingress;

/// <summary>
/// Section "Privacy": <c>Region</c> (eu, us, kr, jp or global; picks the age thresholds), <c>DigitalConsentAge</c> and
/// <c>MajorityAge</c> (override the region's), <c>Versions:&lt;purpose&gt;</c> (the current version of each purpose's
/// terms: raising one makes every fan give that purpose again).
/// </summary>
public static class PrivacySettings
{
    public static PrivacyPolicy Policy(IConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var section = config.GetSection("Privacy");
        var region = section["Region"] is { Length: > 0 } r ? r : "global";
        var defaults = PrivacyPolicy.RegionDefaults.TryGetValue(region, out var d) ? d : PrivacyPolicy.RegionDefaults["global"];
        var ages = new AgeThresholds(section.GetValue<int?>("DigitalConsentAge") ?? defaults.DigitalConsent, section.GetValue<int?>("MajorityAge") ?? defaults.Majority);
        var versions = new Dictionary<Purposes, string>();
        foreach (var child in section.GetSection("Versions").GetChildren())
        {
            versions[PurposeNames.TryParse(child.Key, out var p) ? p
                : throw new InvalidOperationException($"Privacy:Versions:{child.Key}: no such purpose (one of {string.Join(", ", PurposeNames.All.Select(PurposeNames.Name))})")] = child.Value ?? "";
        }

        return new PrivacyPolicy(region, ages, versions);
    }
}
