using FanVote.Security;
using FanVote.Transport;

namespace FanVote.Tally.Core;

/// <summary>A window as tally knows it (from WindowScheduled): its bounds and its candidates.</summary>
public sealed record TallyWindow(string WindowId, DateTimeOffset OpensAt, DateTimeOffset ClosesAt, IReadOnlyList<string> Candidates)
{
    private readonly HashSet<string> _candidates = new(Candidates, StringComparer.Ordinal);

    public bool HasCandidate(string candidateId) => _candidates.Contains(candidateId);
}

/// <summary>What tally does with one delivered vote.</summary>
public enum ScreenVerdict
{
    /// <summary>A vote ingress sealed, inside its window, for one of its candidates: into the ledger.</summary>
    Count,

    /// <summary>Never counted: kept in quarantine with its reason.</summary>
    Quarantine,

    /// <summary>Its window is not known here yet (its WindowScheduled is still on its way): asked for again later.</summary>
    Retry,
}

/// <summary>The screen's answer for one vote.</summary>
public readonly record struct Screened(ScreenVerdict Verdict, string? Reason);

/// <summary>
/// Decides whether a delivered vote may be counted. Counting needs ingress's seal (so the vote passed ingress's checks:
/// token, open window, quota, limits) over exactly these fields, and the window's own bounds and candidate list, as
/// the orchestrator announced them. Whatever fails is quarantined with the reason, never counted, never dropped. The
/// seal is checked first: a vote without a valid seal is quarantined whatever window it names.
/// </summary>
public sealed class VoteScreen(VoteSeal seal)
{
    public const string Unsealed = "unsealed";
    public const string BadSeal = "bad-seal";
    public const string BeforeOpen = "before-open";
    public const string AfterClose = "after-close";
    public const string UnknownCandidate = "unknown-candidate";
    public const string AfterAudit = "after-audit";
    public const string BadVoteId = "bad-vote-id";

    /// <param name="vote">The vote as delivered.</param>
    /// <param name="window">Its window, or null when tally does not know it (yet).</param>
    public Screened Screen(AcceptedVote vote, TallyWindow? window)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (vote.Seal is null)
        {
            return new(ScreenVerdict.Quarantine, Unsealed);
        }

        if (!seal.Verify(vote.Seal, vote.VoteId, vote.WindowId, vote.CandidateId, vote.AccountId, vote.DeviceId, vote.Ip, vote.AcceptedAt, vote.AccountCreatedAt))
        {
            return new(ScreenVerdict.Quarantine, BadSeal);
        }

        // Ingress mints the id (UUIDv7) at the acceptance time: the audit reads a window's votes by that key range.
        if (VoteIds.MillisecondsOf(vote.VoteId) != vote.AcceptedAt.ToUnixTimeMilliseconds())
        {
            return new(ScreenVerdict.Quarantine, BadVoteId);
        }

        if (window is null)
        {
            return new(ScreenVerdict.Retry, "its window is not known here yet");
        }

        return vote.AcceptedAt < window.OpensAt ? new(ScreenVerdict.Quarantine, BeforeOpen)
            : vote.AcceptedAt >= window.ClosesAt ? new(ScreenVerdict.Quarantine, AfterClose)
            : !window.HasCandidate(vote.CandidateId) ? new(ScreenVerdict.Quarantine, UnknownCandidate)
            : new(ScreenVerdict.Count, null);
    }
}
