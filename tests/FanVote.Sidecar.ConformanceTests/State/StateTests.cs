using Dapr;
using Dapr.Client;
using FanVote.Testing;
using Grpc.Core;
using Npgsql;
using StackExchange.Redis;

namespace FanVote.Sidecar.ConformanceTests.State;

/// <summary>docs/dapr-subset.md §10 row 2 on every store, through the real DaprClient.</summary>
[Trait("Category", "Conformance")]
public sealed class StateTests(StateFixture fx) : IClassFixture<StateFixture>
{
    public static TheoryData<string> Stores => [StateFixture.Redis, StateFixture.Memory, StateFixture.PgV1, StateFixture.PgV2];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewKey() => "k-" + Guid.NewGuid().ToString("N")[..10];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveThenGet_RoundTripsTheValue(string store)
    {
        var key = NewKey();
        var vote = new Sample("w1", 42, ["a", "b"]);

        await fx.Client.SaveStateAsync(store, key, vote, cancellationToken: Ct);
        var (back, etag) = await fx.Client.GetStateAndETagAsync<Sample>(store, key, cancellationToken: Ct);

        Assert.Equal(vote.Window, back.Window);
        Assert.Equal(vote.Count, back.Count);
        Assert.Equal(vote.Tags, back.Tags);
        Assert.False(string.IsNullOrEmpty(etag));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Get_MissingKey_ReturnsDefaultAndEmptyEtag(string store)
    {
        var (value, etag) = await fx.Client.GetStateAndETagAsync<Sample>(store, NewKey(), cancellationToken: Ct);

        Assert.Null(value);
        Assert.Equal("", etag);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TrySave_MatchingEtagTrue_StaleEtagFalse(string store)
    {
        var key = NewKey();
        await fx.Client.SaveStateAsync(store, key, new Sample("v1", 1, []), cancellationToken: Ct);
        var (_, etag1) = await fx.Client.GetStateAndETagAsync<Sample>(store, key, cancellationToken: Ct);

        Assert.True(await fx.Client.TrySaveStateAsync(store, key, new Sample("v2", 2, []), etag1, cancellationToken: Ct));
        Assert.False(await fx.Client.TrySaveStateAsync(store, key, new Sample("v3", 3, []), etag1, cancellationToken: Ct));

        var (now, etag2) = await fx.Client.GetStateAndETagAsync<Sample>(store, key, cancellationToken: Ct);
        Assert.Equal("v2", now.Window);
        Assert.NotEqual(etag1, etag2);
    }

    [Theory]
    [InlineData(StateFixture.Redis, true)]     // not an integer version → INVALID_ARGUMENT
    [InlineData(StateFixture.PgV1, true)]      // not a uint32 xmin → INVALID_ARGUMENT
    [InlineData(StateFixture.PgV2, false)]     // not a UUID → ABORTED (a mismatch)
    [InlineData(StateFixture.Memory, false)]   // any string is just an etag that does not match
    public async Task TrySave_MalformedEtag_ThrowsWhereTheStoreCannotParseIt(string store, bool throws)
    {
        var key = NewKey();
        await fx.Client.SaveStateAsync(store, key, new Sample("v1", 1, []), cancellationToken: Ct);

        if (throws)
        {
            var e = await Assert.ThrowsAsync<DaprException>(() => fx.Client.TrySaveStateAsync(store, key, new Sample("x", 0, []), "not-an-etag", cancellationToken: Ct));
            Assert.Equal(StatusCode.InvalidArgument, Assert.IsType<RpcException>(e.InnerException).StatusCode);
        }
        else
        {
            Assert.False(await fx.Client.TrySaveStateAsync(store, key, new Sample("x", 0, []), "not-an-etag", cancellationToken: Ct));
        }
    }

    [Theory]
    [InlineData(StateFixture.Redis, true)]
    [InlineData(StateFixture.Memory, false)]
    [InlineData(StateFixture.PgV1, false)]
    [InlineData(StateFixture.PgV2, false)]
    public async Task TrySave_EtagOnMissingKey_OnlyRedisCreatesIt(string store, bool creates)
    {
        var key = NewKey();
        var etag = store == StateFixture.PgV2 ? Guid.NewGuid().ToString() : "7";

        var saved = await fx.Client.TrySaveStateAsync(store, key, new Sample("new", 1, []), etag, cancellationToken: Ct);

        Assert.Equal(creates, saved);
        var value = await fx.Client.GetStateAsync<Sample>(store, key, cancellationToken: Ct);
        Assert.Equal(creates, value is not null);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TryDelete_StaleEtagFalse_CurrentEtagDeletes(string store)
    {
        var key = NewKey();
        await fx.Client.SaveStateAsync(store, key, new Sample("v1", 1, []), cancellationToken: Ct);
        var (_, etag1) = await fx.Client.GetStateAndETagAsync<Sample>(store, key, cancellationToken: Ct);
        await fx.Client.SaveStateAsync(store, key, new Sample("v2", 2, []), cancellationToken: Ct);
        var (_, etag2) = await fx.Client.GetStateAndETagAsync<Sample>(store, key, cancellationToken: Ct);

        Assert.False(await fx.Client.TryDeleteStateAsync(store, key, etag1, cancellationToken: Ct));
        Assert.NotNull(await fx.Client.GetStateAsync<Sample>(store, key, cancellationToken: Ct));
        Assert.True(await fx.Client.TryDeleteStateAsync(store, key, etag2, cancellationToken: Ct));
        Assert.Null(await fx.Client.GetStateAsync<Sample>(store, key, cancellationToken: Ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Save_WithTtl_ExpiresAndReportsExpiry(string store)
    {
        var key = NewKey();
        await fx.Client.SaveStateAsync(store, key, new Sample("short", 1, []), metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "1" }, cancellationToken: Ct);
        var keep = NewKey();
        await fx.Client.SaveStateAsync(store, keep, new Sample("long", 1, []), cancellationToken: Ct);

        Assert.NotNull(await fx.Client.GetStateAsync<Sample>(store, key, cancellationToken: Ct));
        await Task.Delay(TimeSpan.FromMilliseconds(2500), Ct);

        Assert.Null(await fx.Client.GetStateAsync<Sample>(store, key, cancellationToken: Ct));
        Assert.NotNull(await fx.Client.GetStateAsync<Sample>(store, keep, cancellationToken: Ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Transaction_UpsertAndDelete_AppliesBoth(string store)
    {
        var gone = NewKey();
        var added = NewKey();
        await fx.Client.SaveStateAsync(store, gone, new Sample("old", 1, []), cancellationToken: Ct);

        await fx.Client.ExecuteStateTransactionAsync(store,
        [
            new StateTransactionRequest(added, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Sample("added", 2, []), System.Text.Json.JsonSerializerOptions.Web), StateOperationType.Upsert),
            new StateTransactionRequest(gone, null, StateOperationType.Delete),
        ], cancellationToken: Ct);

        Assert.Equal("added", (await fx.Client.GetStateAsync<Sample>(store, added, cancellationToken: Ct)).Window);
        Assert.Null(await fx.Client.GetStateAsync<Sample>(store, gone, cancellationToken: Ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Transaction_WithOneStaleEtag_ThrowsInternalAndChangesNothing(string store)
    {
        var a = NewKey();
        var b = NewKey();
        await fx.Client.SaveStateAsync(store, a, new Sample("a1", 1, []), cancellationToken: Ct);
        await fx.Client.SaveStateAsync(store, b, new Sample("b1", 1, []), cancellationToken: Ct);
        var (_, etagB) = await fx.Client.GetStateAndETagAsync<Sample>(store, b, cancellationToken: Ct);
        await fx.Client.SaveStateAsync(store, b, new Sample("b2", 2, []), cancellationToken: Ct);
        var json = System.Text.Json.JsonSerializerOptions.Web;

        var e = await Assert.ThrowsAsync<DaprException>(() => fx.Client.ExecuteStateTransactionAsync(store,
        [
            new StateTransactionRequest(a, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Sample("a-new", 9, []), json), StateOperationType.Upsert),
            new StateTransactionRequest(b, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Sample("b-new", 9, []), json), StateOperationType.Upsert, etag: etagB),
        ], cancellationToken: Ct));

        Assert.Equal(StatusCode.Internal, Assert.IsType<RpcException>(e.InnerException).StatusCode);
        Assert.Equal("a1", (await fx.Client.GetStateAsync<Sample>(store, a, cancellationToken: Ct)).Window);
        Assert.Equal("b2", (await fx.Client.GetStateAsync<Sample>(store, b, cancellationToken: Ct)).Window);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task BulkGet_KeepsRequestOrder_ReportsMissingKeysEmpty(string store)
    {
        var keys = Enumerable.Range(0, 5).Select(_ => NewKey()).ToList();
        for (var i = 0; i < keys.Count; i += 2)
        {
            await fx.Client.SaveStateAsync(store, keys[i], new Sample("n" + i, i, []), cancellationToken: Ct);
        }

        var items = await fx.Client.GetBulkStateAsync(store, keys, parallelism: 3, cancellationToken: Ct);

        Assert.Equal(keys, items.Select(i => i.Key));
        for (var i = 0; i < keys.Count; i++)
        {
            if (i % 2 == 0)
            {
                Assert.Contains($"\"n{i}\"", items[i].Value, StringComparison.Ordinal);
                Assert.False(string.IsNullOrEmpty(items[i].ETag));
            }
            else
            {
                Assert.True(string.IsNullOrEmpty(items[i].Value));
            }
        }
    }

    [Fact]
    public async Task Get_KeyWithDoublePipe_IsInvalidArgument()
    {
        var e = await Assert.ThrowsAsync<DaprException>(() => fx.Client.SaveStateAsync(StateFixture.Memory, "a||b", new Sample("x", 1, []), cancellationToken: Ct));
        Assert.Equal(StatusCode.InvalidArgument, Assert.IsType<RpcException>(e.InnerException).StatusCode);
    }

    [Fact]
    public async Task UnknownStore_IsInvalidArgumentNamingIt()
    {
        var e = await Assert.ThrowsAsync<DaprException>(() => fx.Client.GetStateAsync<Sample>("nope", "k", cancellationToken: Ct));
        var rpc = Assert.IsType<RpcException>(e.InnerException);
        Assert.Equal(StatusCode.InvalidArgument, rpc.StatusCode);
        Assert.Contains("state store nope is not found", rpc.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyLayout_Redis_IsAHashAtAppIdPipePipeKey()
    {
        var key = NewKey();
        await fx.Client.SaveStateAsync(StateFixture.Redis, key, new Sample("layout", 5, []), cancellationToken: Ct);
        await fx.Client.SaveStateAsync(StateFixture.Redis, key, new Sample("layout", 6, []), cancellationToken: Ct);

        await using var mux = await TestRedis.ConnectAsync(TestEnvironment.Redis);
        var hash = (await mux.GetDatabase().HashGetAllAsync($"{fx.AppId}||{key}")).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());

        Assert.Contains("\"count\":6", hash["data"], StringComparison.Ordinal);
        Assert.Equal("2", hash["version"]);
    }

    [Fact]
    public async Task KeyLayout_Postgres_BothVersionsStoreAppIdPipePipeKey()
    {
        var key = NewKey();
        await fx.Client.SaveStateAsync(StateFixture.PgV1, key, new Sample("v1row", 1, []), cancellationToken: Ct);
        await fx.Client.SaveStateAsync(StateFixture.PgV2, key, new Sample("v2row", 1, []), cancellationToken: Ct);
        var (_, etagV2) = await fx.Client.GetStateAndETagAsync<Sample>(StateFixture.PgV2, key, cancellationToken: Ct);

        await using var db = NpgsqlDataSource.Create(TestEnvironment.Postgres);
        await using (var cmd = db.CreateCommand($"SELECT value::text, isbinary FROM {fx.V1Table} WHERE key = $1"))
        {
            cmd.Parameters.AddWithValue($"{fx.AppId}||{key}");
            await using var r = await cmd.ExecuteReaderAsync(Ct);
            Assert.True(await r.ReadAsync(Ct));
            var value = r.GetString(0);
            var isBinary = r.GetBoolean(1);
            var text = isBinary ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim('"'))) : value;
            Assert.Contains("v1row", text, StringComparison.Ordinal);
        }

        await using (var cmd = db.CreateCommand($"SELECT convert_from(value, 'UTF8'), etag::text FROM {fx.V2Table} WHERE key = $1"))
        {
            cmd.Parameters.AddWithValue($"{fx.AppId}||{key}");
            await using var r = await cmd.ExecuteReaderAsync(Ct);
            Assert.True(await r.ReadAsync(Ct));
            Assert.Contains("v2row", r.GetString(0), StringComparison.Ordinal);
            Assert.Equal(etagV2, r.GetString(1));
        }
    }

    public sealed record Sample(string Window, int Count, string[] Tags);
}
