using System.Globalization;
using System.Text.RegularExpressions;
using FanVote.Contracts;

namespace FanVote.Rewards.Core;

/// <summary>One choice of a question: its id (in answers and results) and the text fans see.</summary>
public sealed record PollOption(string OptionId, string Label);

/// <summary>A question: single-choice (<see cref="MaxChoices"/> 1) or multi-choice (up to <see cref="MaxChoices"/> options).</summary>
public sealed record PollQuestion(string Text, IReadOnlyList<PollOption> Options, int MaxChoices = 1);

/// <summary>
/// A poll as published: its questions, and whether its results stay hidden until it closes. A fan answers once; the
/// answer covers every question (a question may be skipped).
/// </summary>
public sealed record Poll(string PollId, string Title, IReadOnlyList<PollQuestion> Questions, bool HideResultsUntilClose)
{
    /// <summary>The VIP tier a fan needs to answer (null: everyone).</summary>
    public string? MinTier { get; init; }

    /// <summary>
    /// The id under which results shows a question's live counts (its board and SSE stream): "poll_" + poll id + "_" +
    /// question number. Windows never start with "poll_" (the orchestrator refuses such ids), so the two never meet.
    /// </summary>
    public static string ResultsId(string pollId, int question) => string.Create(CultureInfo.InvariantCulture, $"{ResultsPrefix}{pollId}_{question}");

    public const string ResultsPrefix = Ids.PollResultsPrefix;
}

/// <summary>A fan's choices for one question (by its number).</summary>
public sealed record PollAnswer(int Question, IReadOnlyList<string> Choices);

public static partial class PollRules
{
    public const int MaxQuestions = 20;
    public const int MaxOptions = 20;
    public const int MaxText = 200;

    /// <summary>Null when the poll is well formed, else the first thing wrong with it.</summary>
    public static string? Check(Poll poll)
    {
        ArgumentNullException.ThrowIfNull(poll);
        if (!Id().IsMatch(poll.PollId ?? ""))
        {
            return "pollId must be 1-40 lower-case letters, digits and '-', starting with a letter or digit";
        }

        if (string.IsNullOrWhiteSpace(poll.Title) || poll.Title.Length > MaxText)
        {
            return $"title must be 1-{MaxText} characters";
        }

        if (poll.Questions is null || poll.Questions.Count is < 1 or > MaxQuestions)
        {
            return $"a poll has 1-{MaxQuestions} questions";
        }

        for (var q = 0; q < poll.Questions.Count; q++)
        {
            var question = poll.Questions[q];
            if (question is null || string.IsNullOrWhiteSpace(question.Text) || question.Text.Length > MaxText)
            {
                return S($"question {q}: text must be 1-{MaxText} characters");
            }

            if (question.Options is null || question.Options.Count is < 2 or > MaxOptions)
            {
                return S($"question {q}: 2-{MaxOptions} options");
            }

            if (question.Options.Any(o => o is null || !Ids.IsValid(o.OptionId) || string.IsNullOrWhiteSpace(o.Label) || o.Label.Length > MaxText))
            {
                return S($"question {q}: each option has an optionId (1-64 letters, digits, '-', '_') and a label of 1-{MaxText} characters");
            }

            if (question.Options.Select(o => o.OptionId).Distinct(StringComparer.Ordinal).Count() != question.Options.Count)
            {
                return S($"question {q}: option ids must differ");
            }

            if (question.MaxChoices < 1 || question.MaxChoices > question.Options.Count)
            {
                return S($"question {q}: maxChoices must be between 1 (single choice) and the number of options");
            }
        }

        return null;
    }

    /// <summary>Null when the answer fits the poll: known questions, each once, known options, each once, within the question's choices.</summary>
    public static string? CheckAnswer(Poll poll, IReadOnlyList<PollAnswer>? answers)
    {
        ArgumentNullException.ThrowIfNull(poll);
        if (answers is null || answers.Count == 0)
        {
            return "answers must hold at least one question's choices";
        }

        var seen = new HashSet<int>();
        foreach (var a in answers)
        {
            if (a is null || a.Question < 0 || a.Question >= poll.Questions.Count)
            {
                return S($"question must be a question number of this poll, 0-{poll.Questions.Count - 1}");
            }

            if (!seen.Add(a.Question))
            {
                return S($"question {a.Question} is answered twice");
            }

            var q = poll.Questions[a.Question];
            if (a.Choices is null || a.Choices.Count < 1 || a.Choices.Count > q.MaxChoices)
            {
                return q.MaxChoices == 1
                    ? S($"question {a.Question} takes exactly one choice")
                    : S($"question {a.Question} takes 1-{q.MaxChoices} choices");
            }

            if (a.Choices.Distinct(StringComparer.Ordinal).Count() != a.Choices.Count)
            {
                return S($"question {a.Question}: a choice is given twice");
            }

            if (a.Choices.FirstOrDefault(c => q.Options.All(o => o.OptionId != c)) is { } unknown)
            {
                return S($"question {a.Question} has no option '{(unknown.Length > 64 ? unknown[..64] : unknown)}'");
            }
        }

        return null;
    }

    private static string S(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    private static partial Regex Id();
}
