using System.Text;
using FanVote.Cli;
using FanVote.Testing;
using StackExchange.Redis;

namespace FanVote.Tally.Tests.Faults;

/// <summary>`fanvote dlq list|replay` on the real Redis: original bytes and metadata, atomic, idempotent, filtered.</summary>
public sealed class DeadLetterReplayTests : IAsyncLifetime
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private ConnectionMultiplexer _mux = null!;

    private string Source => "dlqtest-" + _id;

    private string Dlq => Source + "-dlq";

    private IDatabase Db => _mux.GetDatabase();

    public async ValueTask InitializeAsync() => _mux = await TestRedis.ConnectAsync(TestEnvironment.Redis);

    public async ValueTask DisposeAsync()
    {
        await Db.KeyDeleteAsync([Source, Dlq]);
        await _mux.DisposeAsync();
    }

    private static async Task<(int Code, string Text)> CliAsync(params string[] args)
    {
        using var output = new StringWriter();
        var code = await FanVote.Cli.Cli.RunAsync(["dlq", .. args, "--redis", TestEnvironment.Redis], output, output);
        return (code, output.ToString());
    }

    private static byte[] Event(string window, Guid vote) => Encoding.UTF8.GetBytes(
        "{\"specversion\":\"1.0\",\"id\":\"" + Guid.NewGuid() + "\",\"type\":\"VoteAccepted\",\"source\":\"ingress\",\"data\":{\"voteId\":\"" + vote +
        "\",\"windowId\":\"" + window + "\",\"seal\":\"s\u00e9al==\"}}");

    [Fact]
    public async Task Replay_CopiesOriginalFieldsByteForByte_RemovesThem_SecondReplayDoesNothing()
    {
        var a = Event("w1", Guid.NewGuid());
        var b = Event("w2", Guid.NewGuid());
        await Db.StreamAddAsync(Dlq, [new NameValueEntry("data", a)]);
        await Db.StreamAddAsync(Dlq, [new NameValueEntry("data", b), new NameValueEntry("metadata", """{"rawPayload":"false"}""")]);

        var (code, text) = await CliAsync("replay", "--topic", Dlq);

        Assert.Equal(0, code);
        Assert.Contains($"replayed 2 dead letters from {Dlq} to {Source}; 0 left", text, StringComparison.Ordinal);
        var replayed = await Db.StreamRangeAsync(Source);
        Assert.Equal(2, replayed.Length);
        Assert.Equal(a, (byte[])replayed[0]["data"]!);
        Assert.Equal(["data"], replayed[0].Values.Select(v => (string)v.Name!));
        Assert.Equal(b, (byte[])replayed[1]["data"]!);
        Assert.Equal("""{"rawPayload":"false"}""", (string)replayed[1]["metadata"]!);
        Assert.Equal(0, await Db.StreamLengthAsync(Dlq));

        (code, text) = await CliAsync("replay", "--topic", Dlq);
        Assert.Equal(0, code);
        Assert.Contains("replayed 0 dead letters", text, StringComparison.Ordinal);
        Assert.Equal(2, await Db.StreamLengthAsync(Source));
    }

    [Fact]
    public async Task ListAndReplay_ByWindowAndEntry_OnlyThoseTouched()
    {
        var vote = Guid.NewGuid();
        var first = (string)(await Db.StreamAddAsync(Dlq, [new NameValueEntry("data", Event("w1", vote))]))!;
        var second = (string)(await Db.StreamAddAsync(Dlq, [new NameValueEntry("data", Event("w1", Guid.NewGuid()))]))!;
        await Db.StreamAddAsync(Dlq, [new NameValueEntry("data", Event("w2", Guid.NewGuid()))]);
        await Db.StreamAddAsync(Dlq, [new NameValueEntry("data", "not json")]);

        var (code, text) = await CliAsync("list", "--topic", Dlq, "--window", "w1");
        Assert.Equal(0, code);
        Assert.Contains($"{first}  ", text, StringComparison.Ordinal);
        Assert.Contains($"vote {vote}  VoteAccepted", text, StringComparison.Ordinal);
        Assert.Contains($"2 dead letters on {Dlq} for window w1 (4 in all)", text, StringComparison.Ordinal);

        (code, text) = await CliAsync("replay", "--topic", Dlq, "--window", "w1", "--entry", second);
        Assert.Equal(0, code);
        Assert.Contains("replayed 1 dead letters", text, StringComparison.Ordinal);
        Assert.Equal(3, await Db.StreamLengthAsync(Dlq));
        Assert.Contains((await DeadLetters.ListAsync(Db, Dlq)), d => d.EntryId == first);
        Assert.DoesNotContain((await DeadLetters.ListAsync(Db, Dlq)), d => d.EntryId == second);
        Assert.Contains((await DeadLetters.ListAsync(Db, Dlq)), d => d.Id == "(unreadable)");
    }

    [Theory]
    [InlineData("votes-dlq", "votes")]
    [InlineData("votes-fraud-dlq", "votes")]
    [InlineData("vote-flags-dlq", "vote-flags")]
    public void SourceTopic_OfADeadLetterTopic(string dlq, string source) => Assert.Equal(source, DeadLetters.SourceTopic(dlq));

    [Fact]
    public async Task Usage_UnknownVerbOrOption_Exit2()
    {
        Assert.Equal(2, (await CliAsync("purge")).Code);
        Assert.Equal(2, (await CliAsync("list", "--everything", "yes")).Code);
    }
}
