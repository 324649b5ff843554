using FanVote.Sidecar.PubSub;
using StackExchange.Redis;

namespace FanVote.Sidecar.Tests.PubSub;

/// <summary>The blocking XREADGROUP reply, as StackExchange.Redis hands it over under RESP3 and RESP2.</summary>
public sealed class ReadGroupReplyTests
{
    private static RedisResult Bulk(string s) => RedisResult.Create((RedisValue)s);

    private static RedisResult Arr(params RedisResult[] items) => RedisResult.Create(items);

    private static RedisResult Entries() => Arr(
        Arr(Bulk("1-0"), Arr(Bulk("data"), Bulk("{\"a\":1}"))),
        Arr(Bulk("1-1"), Arr(Bulk("data"), Bulk("x"), Bulk("metadata"), Bulk("{}"))));

    private static void AssertEntries(StreamEntry[] entries)
    {
        Assert.Equal(["1-0", "1-1"], entries.Select(e => e.Id.ToString()));
        Assert.Equal("{\"a\":1}", entries[0]["data"].ToString());
        Assert.Equal(["data", "metadata"], entries[1].Values.Select(v => v.Name.ToString()));
        Assert.Equal("{}", entries[1]["metadata"].ToString());
    }

    [Fact]
    public void Resp3Map_StreamToEntries()
    {
        var reply = RedisResult.Create([Bulk("votes"), Entries()], ResultType.Map);

        AssertEntries(RedisStreamsPubSub.ParseReadGroup(reply));
    }

    [Fact]
    public void Resp2Array_OfStreamAndEntries()
    {
        AssertEntries(RedisStreamsPubSub.ParseReadGroup(Arr(Arr(Bulk("votes"), Entries()))));
    }

    [Fact]
    public void BlockTimedOut_NilReply_NoEntries()
    {
        Assert.Empty(RedisStreamsPubSub.ParseReadGroup(RedisResult.Create(RedisValue.Null)));
        Assert.Empty(RedisStreamsPubSub.ParseReadGroup(Arr()));
    }

    [Fact]
    public void DeletedEntry_NilFields_KeptWithNoValues()
    {
        var reply = Arr(Arr(Bulk("votes"), Arr(Arr(Bulk("2-0"), RedisResult.Create(RedisValue.Null)))));

        var entry = Assert.Single(RedisStreamsPubSub.ParseReadGroup(reply));
        Assert.Equal("2-0", entry.Id.ToString());
        Assert.Empty(entry.Values);
    }
}
