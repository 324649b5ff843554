namespace FanVote.Fraud.Core;

/// <summary>
/// FNV-1a over UTF-16 code units. string.GetHashCode is randomized per process, and the distinct-subject sets must
/// behave the same in the trainer and in the service (the same collisions, if any), so they use this instead.
/// </summary>
public static class StableHash
{
    public static ulong Of(ReadOnlySpan<char> s)
    {
        var h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return h;
    }
}
