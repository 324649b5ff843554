namespace FanVote.Workflows.Tests;

public sealed class WindowLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 20, 0, 0, TimeSpan.Zero);
    private static readonly WindowDefinition Def = new("final-1", "Grand final", ["a", "b", "c"], T0.AddMinutes(5), T0.AddMinutes(65), 10);

    [Fact]
    public void Create_PublishesScheduleAndSetsOpenAndCloseTriggers()
    {
        var t = WindowLifecycle.Create(Def, T0);

        Assert.Equal(WindowPhase.Scheduled, t.State.Phase);
        Assert.Equal(
            [new PublishScheduled(Def), new ScheduleTrigger(WindowTrigger.OpenDue, Def.OpensAt), new ScheduleTrigger(WindowTrigger.CloseDue, Def.ClosesAt)],
            t.Effects);
    }

    [Fact]
    public void OpenDue_AtOpeningTime_OpensOnce_RepeatedTriggerDoesNothing()
    {
        var created = WindowLifecycle.Create(Def, T0).State;

        var opened = WindowLifecycle.Next(created, WindowTrigger.OpenDue, Def.OpensAt);
        var again = WindowLifecycle.Next(opened.State, WindowTrigger.OpenDue, Def.OpensAt.AddSeconds(1));

        Assert.Equal(WindowPhase.Open, opened.State.Phase);
        Assert.Equal([new PublishOpened(Def, Def.OpensAt)], opened.Effects);
        Assert.False(again.Changed);
        Assert.Same(opened.State, again.State);
    }

    [Fact]
    public void OpenDue_FiredEarly_AsksAgainAtTheScheduledTime()
    {
        var created = WindowLifecycle.Create(Def, T0).State;

        var early = WindowLifecycle.Next(created, WindowTrigger.OpenDue, Def.OpensAt.AddSeconds(-2));

        Assert.Equal(WindowPhase.Scheduled, early.State.Phase);
        Assert.Equal([new ScheduleTrigger(WindowTrigger.OpenDue, Def.OpensAt)], early.Effects);
    }

    [Fact]
    public void CloseDue_ClosesAnOpenWindow_HistoryRecordsEachStep()
    {
        var s = WindowLifecycle.Create(Def, T0).State;
        s = WindowLifecycle.Next(s, WindowTrigger.OpenDue, Def.OpensAt).State;

        var closed = WindowLifecycle.Next(s, WindowTrigger.CloseDue, Def.ClosesAt.AddMilliseconds(3));

        Assert.Equal(WindowPhase.Closed, closed.State.Phase);
        Assert.Equal([new PublishClosed("final-1", Def.ClosesAt.AddMilliseconds(3))], closed.Effects);
        Assert.Equal([WindowPhase.Scheduled, WindowPhase.Open, WindowPhase.Closed], closed.State.History.Select(h => h.Phase));
        Assert.False(WindowLifecycle.Next(closed.State, WindowTrigger.OpenDue, Def.ClosesAt.AddHours(1)).Changed);
        Assert.False(WindowLifecycle.Next(closed.State, WindowTrigger.CloseDue, Def.ClosesAt.AddHours(1)).Changed);
    }

    [Fact]
    public void CloseDue_BeforeItEverOpened_ClosesAndSaysSo()
    {
        var s = WindowLifecycle.Create(Def, T0).State;

        var closed = WindowLifecycle.Next(s, WindowTrigger.CloseDue, Def.ClosesAt);

        Assert.Equal(WindowPhase.Closed, closed.State.Phase);
        Assert.Equal("closed (never opened)", closed.State.History[^1].Outcome);
    }

    [Fact]
    public void Validate_GoodDefinition_HasNoErrors() => Assert.Empty(Def.Validate(T0));

    [Theory]
    [InlineData("bad id!", "Final", "a,b", 5, 65, 10, "windowId")]
    [InlineData("w", "", "a,b", 5, 65, 10, "title")]
    [InlineData("w", "Final", "a", 5, 65, 10, "candidates")]
    [InlineData("w", "Final", "a,a", 5, 65, 10, "candidates")]
    [InlineData("w", "Final", "a,b c", 5, 65, 10, "candidates")]
    [InlineData("w", "Final", "a,b", 65, 5, 10, "closesAt")]
    [InlineData("w", "Final", "a,b", -120, -60, 10, "closesAt")]
    [InlineData("w", "Final", "a,b", 5, 65, 0, "votesPerAccount")]
    public void Validate_EachMistake_IsReportedOnItsField(string id, string title, string candidates, int opensMin, int closesMin, int quota, string field)
    {
        var d = new WindowDefinition(id, title, candidates.Split(','), T0.AddMinutes(opensMin), T0.AddMinutes(closesMin), quota);

        var errors = d.Validate(T0);

        Assert.Equal([field], errors.Keys);
        Assert.NotEmpty(errors[field][0]);
    }
}
