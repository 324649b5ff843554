using System.Security.Cryptography;
using System.Text;

namespace FanVote.Ingress.Core;

/// <summary>
/// Account ids derived from what the fan signs in with, keyed so they cannot be guessed from it: one guest account
/// per device id (signing in again as a guest on the same device does not reset its quota) and one account per
/// phone number or e-mail address, whatever its spelling.
/// </summary>
public sealed class AccountIds(byte[] key)
{
    public string ForGuest(string deviceId) => "g_" + Hash("guest\n" + deviceId.Trim());

    public string ForContact(string contact) => "u_" + Hash("contact\n" + NormalizeContact(contact));

    /// <summary>E-mail: trimmed, lower case. Phone: '+' and digits only.</summary>
    public static string NormalizeContact(string contact)
    {
        ArgumentNullException.ThrowIfNull(contact);
        var c = contact.Trim();
        if (c.Contains('@', StringComparison.Ordinal))
        {
            return c.ToLowerInvariant();
        }

        var digits = new string(c.Where(char.IsAsciiDigit).ToArray());
        return (c.StartsWith('+') ? "+" : "") + digits;
    }

    private string Hash(string s) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(s)).AsSpan(0, 12));
}
