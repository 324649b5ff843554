using System.Security.Cryptography;
using System.Text;

namespace FanVote.Ingress.Core;

/// <summary>
/// Account ids and the directory entries that find them: one guest account per device id (signing in again as a guest
/// on the same device does not reset its quota) and one account per phone number or e-mail address, whatever its
/// spelling. An account id is random (<see cref="NewId"/>): the directory entry, a keyed hash of the device or
/// contact, is the only link from a person to it, so erasing that entry leaves the account's ledger rows, Merkle
/// leaves and points unlinkable to anyone. <see cref="ForGuest"/> and <see cref="ForContact"/> are how ids were
/// derived before (from the same keyed hash): accounts made that way are adopted by the directory at their next sign-in.
/// </summary>
public sealed class AccountIds(byte[] key)
{
    public string ForGuest(string deviceId) => "g_" + Hash("guest\n" + deviceId.Trim());

    public string ForContact(string contact) => "u_" + Hash("contact\n" + NormalizeContact(contact));

    /// <summary>A new account id: <c>g_</c> (guest) or <c>u_</c> (passcode) and 96 random bits, the same shape as the derived ids.</summary>
    public static string NewId(bool guest) =>
        (guest ? "g_" : "u_") + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>The directory key of a guest's device.</summary>
    public string GuestEntry(string deviceId) => "g:" + Convert.ToHexStringLower(Full("directory\nguest\n" + deviceId.Trim()));

    /// <summary>The directory key of a phone number or e-mail address.</summary>
    public string ContactEntry(string contact) => "u:" + Convert.ToHexStringLower(Full("directory\ncontact\n" + NormalizeContact(contact)));

    private byte[] Full(string s) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(s));

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
