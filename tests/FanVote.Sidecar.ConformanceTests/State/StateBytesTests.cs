using System.Text;

namespace FanVote.Sidecar.ConformanceTests.State;

/// <summary>
/// Values are bytes to every store: what is saved comes back byte for byte (PostgreSQL v1 must not store them as
/// jsonb, which reorders keys, drops duplicates and refuses U+0000). Found by a second, independent test suite.
/// </summary>
[Trait("Category", "Conformance")]
public sealed class StateBytesTests(StateFixture fx) : IClassFixture<StateFixture>
{
    public static TheoryData<string> Stores => [StateFixture.Redis, StateFixture.Memory, StateFixture.PgV1, StateFixture.PgV2];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task ByteState_JsonBytes_RoundTripByteForByte(string store)
    {
        var ct = TestContext.Current.CancellationToken;
        var sent = Encoding.UTF8.GetBytes("""{"b":1,"a":2,"a":3}""");
        var key = "p-" + Guid.NewGuid().ToString("N")[..8];

        await fx.Client.SaveByteStateAsync(store, key, sent, cancellationToken: ct);
        var got = await fx.Client.GetByteStateAsync(store, key, cancellationToken: ct);

        Assert.Equal(Encoding.UTF8.GetString(sent), Encoding.UTF8.GetString(got.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveState_StringWithNulChar_Succeeds(string store)
    {
        var ct = TestContext.Current.CancellationToken;
        var key = "p-" + Guid.NewGuid().ToString("N")[..8];

        await fx.Client.SaveStateAsync(store, key, "a\0b", cancellationToken: ct);

        Assert.Equal("a\0b", await fx.Client.GetStateAsync<string>(store, key, cancellationToken: ct));
    }
}
