using System.Net;
using System.Net.Sockets;

namespace FanVote.Contracts;

/// <summary>
/// What a risk verdict or a vote flag can be about (<c>SubjectKind</c> of <see cref="Events.RiskVerdictIssued"/> and
/// <see cref="Events.VotesFlagged"/>), and the one definition of an IP-prefix subject. Ingress rate-limits per prefix and
/// the fraud service counts votes per prefix: both must group addresses identically, so the rule lives here.
/// </summary>
public static class RiskSubjects
{
    /// <summary>The subject is an account id.</summary>
    public const string Account = "account";

    /// <summary>The subject is a device id.</summary>
    public const string Device = "device";

    /// <summary>The subject is an IP prefix as <see cref="IpPrefixOf"/> writes it.</summary>
    public const string IpPrefix = "ip-prefix";

    /// <summary>Longest text <see cref="TryFormatIpPrefix"/> writes ("ffff:ffff:ffff::/48" and the like).</summary>
    public const int MaxIpPrefixLength = 48;

    /// <summary>
    /// The network a client address belongs to: /24 for IPv4, /48 for IPv6 (one home or office usually holds one such
    /// prefix; a farm rotating addresses inside it is still one subject). IPv4-mapped IPv6 counts as IPv4; anything
    /// unparsable is "unknown".
    /// </summary>
    public static string IpPrefixOf(string ip)
    {
        ArgumentNullException.ThrowIfNull(ip);
        Span<char> buffer = stackalloc char[MaxIpPrefixLength];
        return TryFormatIpPrefix(ip, buffer, out var written) ? new string(buffer[..written]) : "unknown";
    }

    /// <summary>
    /// <see cref="IpPrefixOf"/> without allocating: writes the prefix of <paramref name="ip"/> into
    /// <paramref name="destination"/>; false (and nothing written) when the address does not parse.
    /// </summary>
    public static bool TryFormatIpPrefix(ReadOnlySpan<char> ip, Span<char> destination, out int written)
    {
        written = 0;
        if (!IPAddress.TryParse(ip, out var address))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var length))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork && length == 4)
        {
            return destination.TryWrite(System.Globalization.CultureInfo.InvariantCulture, $"{bytes[0]}.{bytes[1]}.{bytes[2]}.0/24", out written);
        }

        bytes[6..16].Clear();
        var network = new IPAddress(bytes[..16]);
        if (!network.TryFormat(destination, out var n) || n + 3 > destination.Length)
        {
            return false;
        }

        "/48".AsSpan().CopyTo(destination[n..]);
        written = n + 3;
        return true;
    }
}
