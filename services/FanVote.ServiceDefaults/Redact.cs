using System.Globalization;
using FanVote.Contracts;

namespace FanVote.ServiceDefaults;

/// <summary>
/// Personal data in log lines (issue 16, minimization): logs are copied, shipped and kept where the data's retention
/// rules do not reach, so an id (account, device, verdict subject) appears only as its first characters and its length
/// — enough to tell lines apart and to find the row with a key holder's tools, not to look the fan up — and an address
/// only as its network prefix. Contacts and codes are never logged at all. The values are wrapped, not formatted, at
/// the call (<c>new RedactedId(accountId)</c>): the work is done only when the line is written.
/// </summary>
public static class Redact
{
    /// <summary>Characters of an id a log line keeps.</summary>
    public const int Kept = 6;
}

/// <summary>An id in a log line: its first <see cref="Redact.Kept"/> characters and its length.</summary>
public readonly record struct RedactedId(string? Value)
{
    public override string ToString() =>
        string.IsNullOrEmpty(Value) ? "" : Value.Length <= Redact.Kept ? new string('*', Value.Length)
        : string.Concat(Value.AsSpan(0, Redact.Kept), "…(", Value.Length.ToString(CultureInfo.InvariantCulture), ")");
}

/// <summary>An address in a log line: its /24 or /48 (<see cref="RiskSubjects.IpPrefixOf"/>).</summary>
public readonly record struct RedactedIp(string? Value)
{
    public override string ToString() => string.IsNullOrEmpty(Value) ? "" : RiskSubjects.IpPrefixOf(Value);
}
