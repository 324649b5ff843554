namespace FanVote.Sidecar.ConformanceTests.PubSub;

public sealed class AppTokenRig : PubSubRig
{
    public const string Token = "app-token-for-tests";

    protected override IEnumerable<TopicSpec> Topics() => [new("bus", T("tok"), "tok")];

    protected override IReadOnlyDictionary<string, string?>? SubscriberSidecarEnvironment =>
        new Dictionary<string, string?> { ["APP_API_TOKEN"] = Token };

    protected override void Configure(FanVote.Testing.ResourceFolder resources) => resources.With("bus.yaml", RedisComponent("bus"));
}

/// <summary>docs/dapr-subset.md §9: with APP_API_TOKEN set, every sidecar→app call carries it as dapr-api-token.</summary>
[Trait("Category", "Conformance")]
public sealed class AppTokenTests(AppTokenRig rig) : IClassFixture<AppTokenRig>
{
    [Fact]
    public async Task Delivery_AppApiTokenSet_AppReceivesDaprApiTokenHeader()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = rig.T("tok");

        await rig.Client.PublishEventAsync("bus", topic, new { key = "tok-1" }, ct);
        var r = await rig.WaitAsync(topic, x => x.Messages.Any(m => m.Key == "tok-1"), TimeSpan.FromSeconds(15), ct);

        var m = Assert.Single(r.Messages, m => m.Key == "tok-1");
        Assert.Equal(AppTokenRig.Token, m.Header("dapr-api-token"));
    }
}
