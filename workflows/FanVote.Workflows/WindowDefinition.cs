using System.Text.Json.Serialization;
using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Workflows;

/// <summary>What an operator asks for when creating a window; <paramref name="Rewards"/> null means the defaults.</summary>
public sealed record WindowDefinition(
    string WindowId,
    string Title,
    IReadOnlyList<string> Candidates,
    DateTimeOffset OpensAt,
    DateTimeOffset ClosesAt,
    int VotesPerAccount,
    PayoutRules? Rewards = null)
{
    public const int MaxCandidates = 100;
    public const long MaxPoints = 1_000_000;

    /// <summary>The payout rules in force: the window's own, else the defaults.</summary>
    [JsonIgnore]
    public PayoutRules PayoutRules => Rewards ?? new PayoutRules();

    /// <summary>Same window: every field equal, candidates in the same order.</summary>
    public bool SameAs(WindowDefinition other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return WindowId == other.WindowId && Title == other.Title && Candidates.SequenceEqual(other.Candidates) &&
            OpensAt == other.OpensAt && ClosesAt == other.ClosesAt && VotesPerAccount == other.VotesPerAccount && PayoutRules == other.PayoutRules;
    }

    /// <summary>Problems an operator can fix, keyed by field; empty when the definition is valid.</summary>
    public IReadOnlyDictionary<string, string[]> Validate(DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!Ids.IsValid(WindowId))
        {
            errors["windowId"] = ["Use 1-64 characters: letters, digits, '-' and '_' (it appears in URLs)."];
        }
        else if (DataRights.IsReserved(WindowId))
        {
            errors["windowId"] = [$"Ids starting with '{DataRights.ErasurePrefix}' or '{DataRights.ExportPrefix}' are fans' data requests: choose another."];
        }
        else if (Ids.IsPollResults(WindowId))
        {
            errors["windowId"] = [$"Ids starting with '{Ids.PollResultsPrefix}' are where results shows poll questions: choose another."];
        }

        if (string.IsNullOrWhiteSpace(Title) || Title.Length > 200 || Ids.HasControlCharacters(Title))
        {
            errors["title"] = ["Give the window a title of 1-200 characters, without control characters."];
        }

        if (Candidates is null || Candidates.Count < 2 || Candidates.Count > MaxCandidates)
        {
            errors["candidates"] = [$"List between 2 and {MaxCandidates} candidate ids."];
        }
        else if (Candidates.Any(c => !Ids.IsValid(c)))
        {
            errors["candidates"] = ["Candidate ids use 1-64 characters: letters, digits, '-' and '_'."];
        }
        else if (Candidates.Distinct(StringComparer.Ordinal).Count() != Candidates.Count)
        {
            errors["candidates"] = ["Each candidate id may appear only once."];
        }

        if (ClosesAt <= OpensAt)
        {
            errors["closesAt"] = ["closesAt must be later than opensAt."];
        }
        else if (ClosesAt <= now)
        {
            errors["closesAt"] = ["closesAt is in the past: a window must close in the future."];
        }
        else if (ClosesAt - OpensAt > TimeSpan.FromDays(31))
        {
            errors["closesAt"] = ["A window may stay open at most 31 days."];
        }

        if (VotesPerAccount is < 1 or > 10_000)
        {
            errors["votesPerAccount"] = ["votesPerAccount must be between 1 and 10000."];
        }

        if (Rewards is { } r && (r.PointsPerVote is < 0 or > MaxPoints || r.WinnerBonus is < 0 or > MaxPoints))
        {
            errors["rewards"] = [$"rewards.pointsPerVote and rewards.winnerBonus must be between 0 and {MaxPoints}."];
        }

        return errors;
    }
}
