using System.Buffers.Text;
using System.Text;
using FanVote.Contracts;
using FanVote.Security;

namespace FanVote.Tally.Core;

/// <summary>
/// What the ledger keeps of a voter's network and device once the fraud window is over (issue 16, minimization): the
/// address's prefix (<see cref="RiskSubjects.IpPrefixOf"/>: /24, /48), and a keyed hash of the device id under
/// FANVOTE_PSEUDONYM_KEY (HMAC-SHA256, 128 bits, base64url, "dev~" first), so rows of one device still group together
/// but the id itself, which the fan's app holds, can no longer be looked up without the key. Both are idempotent: a
/// value already minimized stays as it is.
/// </summary>
public sealed class Pseudonyms(byte[] key) : IDisposable
{
    public const string Setting = "FANVOTE_PSEUDONYM_KEY";

    /// <summary>What every minimized device id starts with (a device id from ingress never does: it is a UUID).</summary>
    public const string DevicePrefix = "dev~";

    private readonly KeyedHmac _mac = new(key);

    public string Device(string deviceId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        if (deviceId.StartsWith(DevicePrefix, StringComparison.Ordinal))
        {
            return deviceId;
        }

        Span<byte> mac = stackalloc byte[32];
        _mac.Compute(Encoding.UTF8.GetBytes("device\n" + deviceId), mac);
        return DevicePrefix + Base64Url.EncodeToString(mac[..16]);
    }

    /// <summary>The address's prefix; a prefix (or "unknown") stays as it is.</summary>
    public static string Ip(string ip)
    {
        ArgumentNullException.ThrowIfNull(ip);
        return ip.Contains('/', StringComparison.Ordinal) || ip == "unknown" ? ip : RiskSubjects.IpPrefixOf(ip);
    }

    public void Dispose() => _mac.Dispose();
}
