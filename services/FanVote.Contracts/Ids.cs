namespace FanVote.Contracts;

/// <summary>
/// The one rule for window and candidate ids (they appear in URLs, state keys and canonical digests): 1-64 characters
/// of ASCII letters, digits, '-' and '_'. Routes that take a window id refuse anything else before any lookup.
/// </summary>
public static class Ids
{
    /// <summary>Longest id.</summary>
    public const int MaxLength = 64;

    /// <summary>
    /// The prefix of the ids under which results shows poll questions ("poll_" + poll + "_" + question): no window may
    /// start with it, so a poll's counts and a window's never share a board entry.
    /// </summary>
    public const string PollResultsPrefix = "poll_";

    /// <summary>True for an id in the poll questions' part of results (<see cref="PollResultsPrefix"/>).</summary>
    /// <param name="id">A results id.</param>
    public static bool IsPollResults(string id) => id.StartsWith(PollResultsPrefix, StringComparison.Ordinal);

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>True for 1-64 characters of [A-Za-z0-9_-].</summary>
    /// <param name="id">The id to check.</param>
    public static bool IsValid(string? id)
    {
        if (id is not { Length: > 0 and <= MaxLength })
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="text"/> is only digits and a-f (hashes, fingerprints and random ids as FanVote writes them); callers check the length.</summary>
    /// <param name="text">The characters to check.</param>
    public static bool IsLowerHex(ReadOnlySpan<char> text) => !text.ContainsAnyExcept(LowerHex);

    /// <summary>True when <paramref name="text"/> holds a control character (C0, DEL, C1) or a line or paragraph separator.</summary>
    /// <param name="text">A value a client sent (a device id, a contact).</param>
    public static bool HasControlCharacters(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in text)
        {
            if (char.IsControl(c) || c is '\u2028' or '\u2029')
            {
                return true;
            }
        }

        return false;
    }
}
