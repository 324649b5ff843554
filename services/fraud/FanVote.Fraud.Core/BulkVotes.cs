using FanVote.Transport;

namespace FanVote.Fraud.Core;

/// <summary>One entry of a bulk delivery: the vote, or why it cannot be read.</summary>
public readonly record struct BulkVote(string EntryId, VoteInput Vote, string? Error);

/// <summary>
/// Votes off the <c>votes</c> topic as the extractor's input, read with the decoder every subscriber of the topic
/// shares (<see cref="VoteData"/>): an entry of an unknown schema version or with a field missing or malformed is
/// reported, never guessed at.
/// </summary>
public static class BulkVotes
{
    /// <summary>The extractor's input for one delivered vote.</summary>
    public static VoteInput ToInput(AcceptedVote v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new VoteInput(v.VoteId, v.WindowId, v.CandidateId, v.AccountId, v.DeviceId, v.Ip, v.AcceptedAt.ToUnixTimeMilliseconds(), v.AccountCreatedAt.ToUnixTimeMilliseconds());
    }

    public static List<BulkVote> Decode(ReadOnlyMemory<byte> json) =>
        [.. VoteData.Decode(json).Select(e => e.Value is { } v ? new BulkVote(e.EntryId, ToInput(v), null) : new BulkVote(e.EntryId, default, e.Error))];
}
