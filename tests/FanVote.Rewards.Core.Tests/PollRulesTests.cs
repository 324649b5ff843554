namespace FanVote.Rewards.Core.Tests;

public sealed class PollRulesTests
{
    private static readonly Poll Poll = new("halftime", "Halftime", [
        new("Best song?", [new("opener", "The opener"), new("ballad", "The ballad"), new("encore", "The encore")]),
        new("Which members? (up to 2)", [new("ari", "Ari"), new("bo", "Bo"), new("cy", "Cy")], MaxChoices: 2),
    ], HideResultsUntilClose: false);

    [Fact]
    public void AWellFormedPoll_AndWellFormedAnswers_Pass()
    {
        Assert.Null(PollRules.Check(Poll));
        Assert.Null(PollRules.CheckAnswer(Poll, [new(0, ["ballad"])]));
        Assert.Null(PollRules.CheckAnswer(Poll, [new(0, ["ballad"]), new(1, ["ari", "cy"])]));
        Assert.Equal("poll_halftime_1", Poll.ResultsId("halftime", 1));
    }

    [Theory]
    [InlineData("pollId")]
    [InlineData("title")]
    [InlineData("questions")]
    [InlineData("options")]
    [InlineData("optionId")]
    [InlineData("differ")]
    [InlineData("maxChoices")]
    public void PollRules_NameWhatIsWrong(string wrong)
    {
        var q = Poll.Questions[0];
        var poll = wrong switch
        {
            "pollId" => Poll with { PollId = "Half Time" },
            "title" => Poll with { Title = "" },
            "questions" => Poll with { Questions = [] },
            "options" => Poll with { Questions = [q with { Options = [new("only", "Only")] }] },
            "optionId" => Poll with { Questions = [q with { Options = [new("a b", "A"), new("c", "C")] }] },
            "differ" => Poll with { Questions = [q with { Options = [new("a", "A"), new("a", "Again")] }] },
            _ => Poll with { Questions = [q with { MaxChoices = 4 }] },
        };

        Assert.Contains(wrong, PollRules.Check(poll), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5, "ballad", null, "question number")]
    [InlineData(0, "ballad,opener", null, "exactly one choice")]
    [InlineData(1, "ari,bo,cy", null, "1-2 choices")]
    [InlineData(1, "ari,ari", null, "given twice")]
    [InlineData(0, "karaoke", null, "no option 'karaoke'")]
    [InlineData(0, "ballad", "0:opener", "answered twice")]
    public void AnswerRules_NameWhatIsWrong(int question, string choices, string? second, string says)
    {
        List<PollAnswer> answers = [new(question, choices.Split(','))];
        if (second is not null)
        {
            answers.Add(new(int.Parse(second.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture), [second.Split(':')[1]]));
        }

        Assert.Contains(says, PollRules.CheckAnswer(Poll, answers), StringComparison.Ordinal);
        Assert.Contains("at least one", PollRules.CheckAnswer(Poll, []), StringComparison.Ordinal);
    }
}
