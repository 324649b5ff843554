using FanVote.Sidecar.PubSub;
using FanVote.Testing;
using StackExchange.Redis;

namespace FanVote.Sidecar.Tests.PubSub;

/// <summary>
/// The trim of one stream (issue 12), run against the real Redis: entries a consumer group has not acknowledged
/// (pending) or not been given yet (undelivered) survive, in every group; what all groups acknowledged goes.
/// </summary>
public sealed class StreamTrimmerTests : IAsyncLifetime
{
    private ConnectionMultiplexer _mux = null!;
    private readonly string _key = "trim-" + Guid.NewGuid().ToString("N")[..8];

    private IDatabase Db => _mux.GetDatabase();

    public async ValueTask InitializeAsync() => _mux = await TestRedis.ConnectAsync(TestEnvironment.Redis);

    public async ValueTask DisposeAsync()
    {
        await Db.KeyDeleteAsync(_key);
        await _mux.DisposeAsync();
    }

    private async Task<List<string>> AddAsync(int n)
    {
        var ids = new List<string>(n);
        for (var i = 0; i < n; i++)
        {
            ids.Add((await Db.StreamAddAsync(_key, "data", $"m{i}"))!);
        }

        return ids;
    }

    private async Task<List<string>> ReadAsync(string group, int count)
    {
        var entries = await Db.StreamReadGroupAsync(_key, group, group, ">", count);
        return [.. entries.Select(e => (string)e.Id!)];
    }

    private async Task<List<string>> RemainingAsync() => [.. (await Db.StreamRangeAsync(_key)).Select(e => (string)e.Id!)];

    [Fact]
    public async Task Trim_SlowGroupWithPending_KeepsFromItsOldestPendingEntry()
    {
        var ids = await AddAsync(300);
        await Db.StreamCreateConsumerGroupAsync(_key, "fast", "0");
        await Db.StreamCreateConsumerGroupAsync(_key, "slow", "0");
        var fast = await ReadAsync("fast", 300);
        await Db.StreamAcknowledgeAsync(_key, "fast", [.. fast.Select(i => (RedisValue)i)]);
        var slow = await ReadAsync("slow", 100);
        await Db.StreamAcknowledgeAsync(_key, "slow", [.. slow.Take(40).Select(i => (RedisValue)i)]);
        // An acknowledged entry after the oldest pending one does not move the cut past that pending one.
        await Db.StreamAcknowledgeAsync(_key, "slow", slow[60]);

        var r = await StreamTrimmer.TrimAsync(Db, _key);

        Assert.Equal(2, r.Groups);
        Assert.Equal(ids[40], r.MinId);
        Assert.Equal(40, r.Trimmed);
        Assert.Equal(ids.Skip(40), await RemainingAsync());
        var pending = await Db.StreamPendingMessagesAsync(_key, "slow", 1000, RedisValue.Null);
        Assert.Equal(59, pending.Length);
        Assert.All(pending, p => Assert.Contains((string)p.MessageId!, ids.Skip(40)));
    }

    [Fact]
    public async Task Trim_GroupAckedAllItWasGiven_KeepsItsUndeliveredEntries()
    {
        var ids = await AddAsync(200);
        await Db.StreamCreateConsumerGroupAsync(_key, "fast", "0");
        await Db.StreamCreateConsumerGroupAsync(_key, "slow", "0");
        await Db.StreamAcknowledgeAsync(_key, "fast", [.. (await ReadAsync("fast", 200)).Select(i => (RedisValue)i)]);
        await Db.StreamAcknowledgeAsync(_key, "slow", [.. (await ReadAsync("slow", 70)).Select(i => (RedisValue)i)]);

        var r = await StreamTrimmer.TrimAsync(Db, _key);

        Assert.Equal(70, r.Trimmed);
        Assert.Equal(ids.Skip(70), await RemainingAsync());
        // The slow group still gets every entry it was not given, in order.
        Assert.Equal(ids.Skip(70), await ReadAsync("slow", 1000));
    }

    [Fact]
    public async Task Trim_EveryGroupAckedEverything_StreamEmptied()
    {
        await AddAsync(150);
        foreach (var g in new[] { "a", "b", "c" })
        {
            await Db.StreamCreateConsumerGroupAsync(_key, g, "0");
            await Db.StreamAcknowledgeAsync(_key, g, [.. (await ReadAsync(g, 150)).Select(i => (RedisValue)i)]);
        }

        var r = await StreamTrimmer.TrimAsync(Db, _key);

        Assert.Equal(3, r.Groups);
        Assert.Equal(150, r.Trimmed);
        Assert.Equal(0, await Db.StreamLengthAsync(_key));

        // New entries after the trim are kept until consumed, then trimmed in turn.
        var more = await AddAsync(10);
        Assert.Equal(0, (await StreamTrimmer.TrimAsync(Db, _key)).Trimmed);
        Assert.Equal(more, await RemainingAsync());
    }

    [Fact]
    public async Task Trim_GroupThatConsumedNothing_BlocksTrimming()
    {
        var ids = await AddAsync(120);
        await Db.StreamCreateConsumerGroupAsync(_key, "fast", "0");
        await Db.StreamCreateConsumerGroupAsync(_key, "idle", "0");
        await Db.StreamAcknowledgeAsync(_key, "fast", [.. (await ReadAsync("fast", 120)).Select(i => (RedisValue)i)]);

        var r = await StreamTrimmer.TrimAsync(Db, _key);

        Assert.Equal(0, r.Trimmed);
        Assert.Equal(ids, await RemainingAsync());
    }

    [Fact]
    public async Task Trim_GroupReadButAckedNothing_KeepsEverythingItHolds()
    {
        var ids = await AddAsync(50);
        await Db.StreamCreateConsumerGroupAsync(_key, "g", "0");
        await ReadAsync("g", 50);

        Assert.Equal(0, (await StreamTrimmer.TrimAsync(Db, _key)).Trimmed);
        Assert.Equal(ids, await RemainingAsync());
    }

    [Fact]
    public async Task Trim_StreamWithoutGroupsOrMissing_LeftAlone()
    {
        var missing = await StreamTrimmer.TrimAsync(Db, _key);
        Assert.Equal(new TrimResult(0, null, 0), missing);

        var ids = await AddAsync(30);
        Assert.Equal(new TrimResult(0, null, 0), await StreamTrimmer.TrimAsync(Db, _key));
        Assert.Equal(ids, await RemainingAsync());
    }

    [Fact]
    public async Task Trim_IdsComparedAsNumbersNotText_AndSequenceCarries()
    {
        // "9-..." sorts after "10-..." as text; and last-delivered 10-18446744073709551615 + 1 is 11-0.
        foreach (var id in new[] { "9-5", "10-0", "10-18446744073709551615", "11-0", "11-1", "100-0" })
        {
            await Db.StreamAddAsync(_key, "data", id, messageId: id);
        }

        await Db.StreamCreateConsumerGroupAsync(_key, "a", "0");
        await Db.StreamCreateConsumerGroupAsync(_key, "b", "0");
        await Db.StreamAcknowledgeAsync(_key, "a", [.. (await ReadAsync("a", 3)).Select(i => (RedisValue)i)]);
        await Db.StreamAcknowledgeAsync(_key, "b", [.. (await ReadAsync("b", 5)).Select(i => (RedisValue)i)]);

        var r = await StreamTrimmer.TrimAsync(Db, _key);

        Assert.Equal("11-0", r.MinId);
        Assert.Equal(["11-0", "11-1", "100-0"], await RemainingAsync());

        // Group b pending at 100-0 while a has been given nothing past 10-...: a's undelivered 11-0 is the cut.
        await ReadAsync("b", 1);
        Assert.Equal("11-0", (await StreamTrimmer.TrimAsync(Db, _key)).MinId);
    }

    [Theory]
    [InlineData(null, 5000)]
    [InlineData("", 5000)]
    [InlineData("0", 0)]
    [InlineData("250", 250)]
    [InlineData("2s", 2000)]
    [InlineData("1m", 60000)]
    public void IntervalFrom_Variable_ParsedAsMillisecondsOrDuration(string? value, int ms)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(ms), StreamTrimmer.IntervalFrom(n => n == StreamTrimmer.IntervalVariable ? value : null));
    }

    [Fact]
    public void IntervalFrom_Garbage_StopsStartUp()
    {
        var e = Assert.Throws<FormatException>(() => StreamTrimmer.IntervalFrom(_ => "soon"));
        Assert.Contains(StreamTrimmer.IntervalVariable, e.Message, StringComparison.Ordinal);
    }
}
