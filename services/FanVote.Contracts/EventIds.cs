using System.Security.Cryptography;
using System.Text;

namespace FanVote.Contracts;

/// <summary>
/// Event ids derived from what an event is about, for facts and answers that may be sent again after a crash:
/// the repeat carries the same id, so a receiver can tell it is the same event.
/// </summary>
public static class EventIds
{
    /// <summary>A GUID from the first 16 bytes of SHA-256 over the parts joined by newlines.</summary>
    public static Guid Stable(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts)));
        return new Guid(hash.AsSpan(0, 16));
    }
}
