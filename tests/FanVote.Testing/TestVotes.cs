using FanVote.Contracts.Events;
using FanVote.Security;

namespace FanVote.Testing;

/// <summary>Votes as ingress publishes them: a UUIDv7 id minted at the acceptance time and ingress's seal (<see cref="TestKeys.VoteKey"/>).</summary>
public static class TestVotes
{
    private static readonly VoteSeal Seal = new(TestKeys.VoteKey);

    public static VoteAccepted Sealed(string window, string candidate, string account, string device, string ip, DateTimeOffset acceptedAt, DateTimeOffset accountCreatedAt)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(acceptedAt.ToUnixTimeMilliseconds());
        var id = Guid.CreateVersion7(at);
        return new VoteAccepted
        {
            EventId = id,
            OccurredAt = at,
            VoteId = id,
            WindowId = window,
            CandidateId = candidate,
            AccountId = account,
            DeviceId = device,
            Ip = ip,
            AccountCreatedAt = accountCreatedAt,
            Seal = Seal.Seal(id, window, candidate, account, device, ip, at, accountCreatedAt),
        };
    }

    /// <summary>The seal of <paramref name="v"/>'s fields as they are now (after a test changed one, say).</summary>
    public static string SealOf(VoteAccepted v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return Seal.Seal(v.VoteId, v.WindowId, v.CandidateId, v.AccountId, v.DeviceId, v.Ip, v.OccurredAt, v.AccountCreatedAt);
    }
}
