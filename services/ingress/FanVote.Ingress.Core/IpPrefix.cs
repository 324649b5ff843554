using FanVote.Contracts;

namespace FanVote.Ingress.Core;

/// <summary>
/// The network a client address belongs to, for per-network limits: the shared definition in
/// <see cref="RiskSubjects.IpPrefixOf"/>, so ingress's limits and the fraud service's features group addresses alike.
/// </summary>
public static class IpPrefix
{
    public static string Of(string ip) => RiskSubjects.IpPrefixOf(ip);
}
