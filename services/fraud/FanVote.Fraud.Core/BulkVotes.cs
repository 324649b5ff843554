using FanVote.Contracts;

namespace FanVote.Fraud.Core;

/// <summary>One entry of a bulk delivery: the vote, or why it cannot be read.</summary>
public readonly record struct BulkVote(string EntryId, VoteInput Vote, string? Error);

/// <summary>
/// Reads a bulk delivery of <c>votes</c> into the extractor's input, with the decoder every subscriber of the topic
/// shares (<see cref="VoteDelivery"/>): an entry of an unknown schema version or with a field missing or malformed is
/// reported, never guessed at.
/// </summary>
public static class BulkVotes
{
    public static List<BulkVote> Decode(ReadOnlyMemory<byte> json)
    {
        var entries = VoteDelivery.Decode(json, "fraud service");
        var result = new List<BulkVote>(entries.Count);
        foreach (var e in entries)
        {
            result.Add(e.Vote is { } v
                ? new BulkVote(e.EntryId, new VoteInput(v.VoteId, v.WindowId, v.CandidateId, v.AccountId, v.DeviceId, v.Ip,
                    v.AcceptedAt.ToUnixTimeMilliseconds(), v.AccountCreatedAt.ToUnixTimeMilliseconds()), null)
                : new BulkVote(e.EntryId, default, e.Error));
        }

        return result;
    }
}
