using FanVote.Security;
using FanVote.Transport;

namespace FanVote.Tally.Core.Tests;

public sealed class VoteScreenTests
{
    private static readonly byte[] Key = Enumerable.Range(3, 32).Select(i => (byte)i).ToArray();
    private static readonly DateTimeOffset Opens = new(2026, 12, 4, 20, 0, 0, TimeSpan.Zero);
    private static readonly TallyWindow Window = new("final", Opens, Opens.AddHours(1), ["aurora", "blaze"]);

    private static AcceptedVote Vote(DateTimeOffset at, string candidate = "blaze", string window = "final", Guid? id = null, VoteSeal? sealWith = null)
    {
        var voteId = id ?? Guid.CreateVersion7(at);
        using var seal = sealWith is null ? new VoteSeal(Key) : null;
        var mac = (sealWith ?? seal!).Seal(voteId, window, candidate, "g_acc", "phone", "203.0.113.7", at, at.AddDays(-1));
        return new AcceptedVote(voteId, window, candidate, "g_acc", "phone", "203.0.113.7", at, at.AddDays(-1), mac);
    }

    private static Screened Screen(AcceptedVote v, TallyWindow? w)
    {
        using var seal = new VoteSeal(Key);
        return new VoteScreen(seal).Screen(v, w);
    }

    [Fact]
    public void Screen_SealedVoteInsideItsWindowForACandidate_IsCounted() =>
        Assert.Equal(new Screened(ScreenVerdict.Count, null), Screen(Vote(Opens.AddMinutes(5)), Window));

    [Fact]
    public void Screen_NoSeal_OrASealOverOtherFields_IsQuarantined()
    {
        var v = Vote(Opens.AddMinutes(5));

        Assert.Equal(new Screened(ScreenVerdict.Quarantine, VoteScreen.Unsealed), Screen(v with { Seal = null }, Window));
        Assert.Equal(new Screened(ScreenVerdict.Quarantine, VoteScreen.BadSeal), Screen(v with { CandidateId = "aurora" }, Window));
        Assert.Equal(new Screened(ScreenVerdict.Quarantine, VoteScreen.BadSeal), Screen(v with { AccountId = "g_other" }, Window));
        using var other = new VoteSeal(KeySet.DevelopmentKey("vote-seal"));
        Assert.Equal(new Screened(ScreenVerdict.Quarantine, VoteScreen.BadSeal), Screen(Vote(Opens.AddMinutes(5), sealWith: other), Window));
    }

    [Fact]
    public void Screen_ABadSeal_IsQuarantinedEvenForAnUnknownWindow() =>
        Assert.Equal(ScreenVerdict.Quarantine, Screen(Vote(Opens.AddMinutes(5), window: "nowhere") with { Seal = new string('A', 43) }, null).Verdict);

    [Fact]
    public void Screen_SealedVoteOfAWindowNotKnownYet_IsRetried() =>
        Assert.Equal(ScreenVerdict.Retry, Screen(Vote(Opens.AddMinutes(5)), null).Verdict);

    [Fact]
    public void Screen_OutsideTheWindow_OrNotACandidate_IsQuarantined()
    {
        Assert.Equal(VoteScreen.BeforeOpen, Screen(Vote(Opens.AddSeconds(-1)), Window).Reason);
        Assert.Equal(VoteScreen.AfterClose, Screen(Vote(Window.ClosesAt), Window).Reason);
        Assert.Equal(VoteScreen.UnknownCandidate, Screen(Vote(Opens.AddMinutes(5), candidate: "comet"), Window).Reason);
        Assert.Equal(ScreenVerdict.Count, Screen(Vote(Window.ClosesAt.AddMilliseconds(-1)), Window).Verdict);
    }

    [Fact]
    public void Screen_AVoteIdNotMintedAtItsAcceptanceTime_IsQuarantined()
    {
        var at = Opens.AddMinutes(5);
        Assert.Equal(VoteScreen.BadVoteId, Screen(Vote(at, id: Guid.CreateVersion7(at.AddMinutes(-10))), Window).Reason);
        Assert.Equal(VoteScreen.BadVoteId, Screen(Vote(at, id: Guid.NewGuid()), Window).Reason);
    }
}
