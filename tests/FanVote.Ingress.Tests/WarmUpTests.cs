using FanVote.Contracts;
using FanVote.Testing;

namespace FanVote.Ingress.Tests;

/// <summary>A rig of its own: nothing but the warm-up has run in it when the test looks.</summary>
public sealed class WarmUpRig : IngressRig
{
    protected override Dictionary<string, string?> AppSettings => new() { ["FanVote__WarmUpSeconds"] = "60" }; // on (tests turn it off), generous for a loaded machine
}

/// <summary>
/// Ingress runs its hot path before it reports ready (docs/benchmarks.md, cold start), and leaves no trace a fan, an
/// alert or an audit could see: no vote published or counted in the exported metrics, no admission key left behind.
/// </summary>
public sealed class WarmUpTests(WarmUpRig rig, ITestOutputHelper output) : IClassFixture<WarmUpRig>
{
    [Fact]
    public async Task BeforeReady_TheVoteEndpointAndHttpPathsRan_NothingPublishedOrCounted_NoKeysLeft()
    {
        // The rig waited for /healthz: ready means the warm-up is over.
        var lines = string.Join('\n', rig.Ingress.App.Output.Split('\n').Where(l => l.Contains("warm", StringComparison.OrdinalIgnoreCase)));
        output.WriteLine(lines);
        var accept = System.Text.RegularExpressions.Regex.Match(lines, @"accepted (\d+) of (\d+) warm-up votes");
        Assert.True(accept.Success && accept.Groups[1].Value == accept.Groups[2].Value && int.Parse(accept.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0,
            $"the vote endpoint did not answer 202 to every warm-up vote; ingress said: {lines}");
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(lines, @"HTTP answered [1-9]\d* × 404 \{"), $"the HTTP path did not answer 404 (and only 404) to the warm-up requests; ingress said: {lines}");
        Assert.True(lines.Contains("warm: the hot path ran", StringComparison.Ordinal), $"no end of warm-up logged; ingress said: {lines}");

        await using var data = await TestRedis.ConnectAsync(rig.Data.Address);
        var left = new List<string>();
        await foreach (var key in data.GetServer(data.GetEndPoints()[0]).KeysAsync(pattern: "*warm-up*"))
        {
            left.Add(key.ToString());
        }

        Assert.True(left.Count == 0, $"warm-up keys left in ingress's Redis: {string.Join(", ", left.Take(10))}");

        await using var bus = await TestRedis.ConnectAsync(rig.Bus.Address);
        var db = bus.GetDatabase();
        Assert.False(await db.KeyExistsAsync(Topics.Votes), "the warm-up published to the votes topic");
        Assert.False(await db.KeyExistsAsync("fanvote-warm-up"), "the warm-up's topic reached the broker (allowedTopics should refuse it)");

        // Its 202s are not counted where an alert compares accepted with certified votes: the exported accepted
        // counter has not moved (no fan has voted in this rig).
        var metrics = await rig.Ingress.Internal.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        var counted = metrics.Split('\n').Where(l => l.StartsWith("fanvote_ingress_votes_accepted", StringComparison.Ordinal) && !l.TrimEnd().EndsWith(" 0", StringComparison.Ordinal)).ToList();
        Assert.True(counted.Count == 0, $"the warm-up's votes reached the exported metrics: {string.Join(" | ", counted)}");
        Assert.Contains("fanvote_ingress_votes_refused", metrics, StringComparison.Ordinal); // the loopback requests' 404s are real requests, counted as refusals
    }
}
