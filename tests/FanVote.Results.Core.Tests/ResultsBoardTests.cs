using FanVote.Results.Core;

namespace FanVote.Results.Core.Tests;

public sealed class ResultsBoardTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 22, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Get_ScheduledWindowWithoutVotes_ShowsEveryCandidateAtZero()
    {
        var board = new ResultsBoard();
        board.Schedule("w", "Final", ["a", "b", "c"], T);

        var v = board.Get("w")!;

        Assert.Equal("Final", v.Title);
        Assert.Equal(["a", "b", "c"], v.Candidates);
        Assert.All(v.Counts.Values, n => Assert.Equal(0, n));
        Assert.Equal(0, v.Seq);
    }

    [Fact]
    public void Apply_NewerSeqWins_OlderOrEqualIsIgnored()
    {
        var board = new ResultsBoard();
        board.Schedule("w", "Final", ["a", "b"], T);

        Assert.True(board.Apply("w", 3, 5, new Dictionary<string, long> { ["a"] = 3, ["b"] = 2 }, T));
        Assert.False(board.Apply("w", 2, 4, new Dictionary<string, long> { ["a"] = 2, ["b"] = 2 }, T));
        Assert.False(board.Apply("w", 3, 9, new Dictionary<string, long> { ["a"] = 9 }, T));

        var v = board.Get("w")!;
        Assert.Equal(3, v.Seq);
        Assert.Equal(5, v.Total);
        Assert.Equal(3, v.Counts["a"]);
    }

    [Fact]
    public void Apply_BeforeSchedule_StillShows_AndScheduleAddsTitleLater()
    {
        var board = new ResultsBoard();
        board.Apply("w", 1, 2, new Dictionary<string, long> { ["x"] = 2 }, T);
        board.Schedule("w", "Late title", ["y", "x"], T);

        var v = board.Get("w")!;

        Assert.Equal("Late title", v.Title);
        Assert.Equal(["y", "x"], v.Candidates);
        Assert.Equal(2, v.Counts["x"]);
        Assert.Equal(0, v.Counts["y"]);
        Assert.Null(board.Get("unknown"));
    }

    [Fact]
    public void All_MostRecentlyUpdatedFirst()
    {
        var board = new ResultsBoard();
        board.Schedule("old", "Old", ["a", "b"], T);
        board.Schedule("new", "New", ["a", "b"], T.AddMinutes(1));
        board.Apply("old", 1, 1, new Dictionary<string, long> { ["a"] = 1 }, T.AddMinutes(2));

        Assert.Equal(["old", "new"], board.All().Select(v => v.WindowId));
    }
}
