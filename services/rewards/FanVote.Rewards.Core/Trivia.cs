using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace FanVote.Rewards.Core;

/// <summary>A timed question: its options, the correct one (sealed until it closes), its answer window and its points.</summary>
public sealed record TriviaQuestion(string Text, IReadOnlyList<PollOption> Options, string Correct, int Seconds, int Points = 100, int SpeedBonus = 50);

/// <summary>
/// A trivia round: questions asked one after another from <see cref="StartsAt"/>, each open for its seconds, with
/// <see cref="GapSeconds"/> between them. A correct answer scores the question's points plus a speed bonus that falls
/// from its full value at the opening to 0 at the close; a wrong one 0. The round's points are credited to each fan's
/// ledger account once its last question is scored.
/// </summary>
public sealed record TriviaRound(string RoundId, string Title, IReadOnlyList<TriviaQuestion> Questions, DateTimeOffset StartsAt, int GapSeconds)
{
    public DateTimeOffset OpensAt(int question)
    {
        var at = StartsAt;
        for (var i = 0; i < question; i++)
        {
            at += TimeSpan.FromSeconds(Questions[i].Seconds + GapSeconds);
        }

        return at;
    }

    public DateTimeOffset ClosesAt(int question) => OpensAt(question) + TimeSpan.FromSeconds(Questions[question].Seconds);

    /// <summary>
    /// When a question is scored: a second after its close, so that an answer accepted just before it has landed (one
    /// that raced past that is scored with the round's credit). The round's workflow waits for each of these in turn.
    /// </summary>
    public DateTimeOffset ScoreAt(int question) => ClosesAt(question).AddSeconds(1);

    /// <summary>"scheduled", "open" or "closed" for one question.</summary>
    public string State(int question, DateTimeOffset now) => now < OpensAt(question) ? "scheduled" : now < ClosesAt(question) ? "open" : "closed";

    /// <summary>The points of an answer given <paramref name="elapsed"/> after the question opened.</summary>
    public int Score(int question, string choice, TimeSpan elapsed)
    {
        var q = Questions[question];
        if (!string.Equals(choice, q.Correct, StringComparison.Ordinal))
        {
            return 0;
        }

        var left = Math.Clamp(1 - (elapsed.TotalSeconds / q.Seconds), 0, 1);
        return q.Points + (int)Math.Floor(q.SpeedBonus * left);
    }
}

public static partial class TriviaRules
{
    public const int MaxQuestions = 50;

    public static string? Check(TriviaRound round)
    {
        ArgumentNullException.ThrowIfNull(round);
        if (!Id().IsMatch(round.RoundId ?? ""))
        {
            return "roundId must be 1-40 lower-case letters, digits and '-', starting with a letter or digit";
        }

        if (string.IsNullOrWhiteSpace(round.Title) || round.Title.Length > PollRules.MaxText)
        {
            return $"title must be 1-{PollRules.MaxText} characters";
        }

        if (round.GapSeconds is < 0 or > 3600)
        {
            return "gapSeconds must be between 0 and 3600";
        }

        if (round.Questions is null || round.Questions.Count is < 1 or > MaxQuestions)
        {
            return $"a round has 1-{MaxQuestions} questions";
        }

        for (var i = 0; i < round.Questions.Count; i++)
        {
            var q = round.Questions[i];
            if (q is null)
            {
                return S($"question {i} is missing");
            }

            // The option rules are a poll question's.
            if (PollRules.Check(new Poll("p", "t", [new PollQuestion(q.Text, q.Options)], false)) is { } wrong)
            {
                return S($"question {i}: ") + wrong.Replace("question 0: ", "", StringComparison.Ordinal);
            }

            if (q.Options.All(o => o.OptionId != q.Correct))
            {
                return S($"question {i}: correct must be one of its optionIds");
            }

            if (q.Seconds is < 3 or > 600 || q.Points is < 0 or > 100_000 || q.SpeedBonus is < 0 or > 100_000)
            {
                return S($"question {i}: seconds must be 3-600, points and speedBonus 0-100000");
            }
        }

        return null;
    }

    private static string S(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    private static partial Regex Id();
}

/// <summary>
/// The sealed answer: each question's commitment, published with the round, is hex SHA-256 over
/// "fanvote-trivia-answer-v1\n" round "\n" question "\n" correct option "\n" question salt (hex) "\n"; the question's
/// salt (HMAC-SHA256 of the round's secret salt and the question number) is revealed with the answer at its close, so
/// anyone checks the answer was fixed before the question opened, and no later question's answer is given away.
/// </summary>
public static class TriviaSeal
{
    public static byte[] QuestionSalt(ReadOnlySpan<byte> roundSalt, int question) =>
        HMACSHA256.HashData(roundSalt, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"fanvote-trivia-salt-v1\n{question}\n")));

    public static string Commitment(string roundId, int question, string correct, ReadOnlySpan<byte> questionSalt) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"fanvote-trivia-answer-v1\n{roundId}\n{question}\n{correct}\n{Convert.ToHexStringLower(questionSalt)}\n"))));
}

/// <summary>The ledger entry of a round's points for one fan (once per fan and round).</summary>
public static class TriviaEntries
{
    public const string Reason = "trivia";

    public static string Scope(string roundId) => "trivia:" + roundId;

    public static NewEntry Points(string roundId, string accountId, long points, DateTimeOffset at)
    {
        var fan = Accounts.Fan(accountId);
        return new NewEntry(PayoutPlan.EntryId(Scope(roundId), fan, Reason), Scope(roundId), Accounts.Issuance, fan, points, Reason, at);
    }
}
