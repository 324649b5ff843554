using FanVote.Testing;

namespace FanVote.Results.Tests;

/// <summary>The live results page in headless Chromium: the numbers a person sees move as votes are counted.</summary>
public sealed class LivePageTests(ResultsRig rig, ITestOutputHelper output) : IClassFixture<ResultsRig>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static string Count(string candidate) =>
        $"(document.querySelector('[data-candidate=\"{candidate}\"] .n') || {{}}).textContent || ''";

    private const string Total = "document.getElementById('total').textContent";
    private const string Transport = "document.getElementById('transport').textContent";

    [Fact]
    public async Task Page_InChromium_ShowsCountsAndTheyMoveWhenVotesArrive()
    {
        Assert.True(Chromium.Available, "Debian chromium is needed for this test (./fanvote test installs it)");
        var w = "page-" + Guid.NewGuid().ToString("N")[..6];
        await rig.ScheduleAsync(w, "aurora", "blaze", "comet");
        await rig.TallyAsync(w, 1, ("aurora", 1200), ("blaze", 300));
        await rig.WaitResultsAsync(w, e => e.GetProperty("seq").GetInt64() == 1);
        var dir = Directory.CreateTempSubdirectory("fv-page-").FullName;

        await using var page = await Chromium.OpenAsync($"{rig.Results.BaseUrl}/?window={w}");
        Assert.Equal("1,500", await page.WaitForAsync(Total, "1,500", Wait));
        Assert.Equal("1,200", await page.EvalAsync(Count("aurora")));
        Assert.Equal("300", await page.EvalAsync(Count("blaze")));
        Assert.Equal("0", await page.EvalAsync(Count("comet")));
        Assert.Equal("live stream", await page.WaitForAsync(Transport, "live stream", Wait));
        await page.ScreenshotAsync(Path.Combine(dir, "1-before.png"));

        await rig.TallyAsync(w, 2, ("aurora", 4000), ("blaze", 900), ("comet", 100));

        Assert.Equal("5,000", await page.WaitForAsync(Total, "5,000", Wait));
        Assert.Equal("4,000", await page.EvalAsync(Count("aurora")));
        Assert.Equal("900", await page.EvalAsync(Count("blaze")));
        Assert.Equal("100", await page.EvalAsync(Count("comet")));
        await page.ScreenshotAsync(Path.Combine(dir, "2-after.png"));
        output.WriteLine($"screenshots: {dir}/1-before.png {dir}/2-after.png");
        Assert.True(new FileInfo(Path.Combine(dir, "2-after.png")).Length > 2000, "screenshot was written");
        Assert.Equal("22.5%", await page.EvalAsync("document.querySelector('[data-candidate=\"blaze\"] .fill').style.width"));
    }

    [Fact]
    public async Task Page_StreamUnavailable_FallsBackToPollingAndStillUpdates()
    {
        Assert.True(Chromium.Available, "Debian chromium is needed for this test (./fanvote test installs it)");
        var w = "poll-" + Guid.NewGuid().ToString("N")[..6];
        await rig.ScheduleAsync(w, "a", "b");
        await rig.TallyAsync(w, 1, ("a", 1));
        await rig.WaitResultsAsync(w, e => e.GetProperty("seq").GetInt64() == 1);

        await using var page = await Chromium.OpenAsync($"{rig.Results.BaseUrl}/?window={w}&stream=/no-such-stream");
        Assert.Equal("polling", await page.WaitForAsync(Transport, "polling", Wait));
        await rig.TallyAsync(w, 2, ("a", 7), ("b", 5));

        Assert.Equal("12", await page.WaitForAsync(Total, "12", Wait));
        Assert.Equal("7", await page.EvalAsync(Count("a")));
    }
}
