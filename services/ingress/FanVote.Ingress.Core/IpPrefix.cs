using System.Net;
using System.Net.Sockets;

namespace FanVote.Ingress.Core;

/// <summary>
/// The network a client address belongs to, for per-network limits and features: /24 for IPv4, /48 for IPv6
/// (one home or office usually holds one such prefix; a farm rotating addresses inside it is still one subject).
/// </summary>
public static class IpPrefix
{
    public static string Of(string ip)
    {
        if (!IPAddress.TryParse(ip, out var address))
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return $"{bytes[0]}.{bytes[1]}.{bytes[2]}.0/24";
        }

        Array.Clear(bytes, 6, bytes.Length - 6);
        return $"{new IPAddress(bytes)}/48";
    }
}
