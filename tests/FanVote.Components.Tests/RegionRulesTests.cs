using FanVote.Components.Tests.Checks;

namespace FanVote.Components.Tests;

/// <summary>components/: each rule passes on the real folders and names exactly the mistake in a broken copy.</summary>
public sealed class RegionRulesTests : IDisposable
{
    private const string A = "components/region-a";
    private const string B = "components/region-b";
    private readonly TreeCopy _copy = new();

    public void Dispose() => _copy.Dispose();

    [Fact]
    public void RealComponents_EveryRegionRule_NoFindings()
    {
        var regions = TreeCopy.Real.Regions();

        Expect.None(RegionRules.All(TreeCopy.Real));
        Assert.Contains(regions, r => r.IsLocal);
        var cluster = regions.Where(r => !r.IsLocal).ToList();
        Assert.True(cluster.Count >= 2, "at least two region folders besides local/");
        Assert.Contains(cluster, r => r.Components.Any(c => c.Type == "pubsub.redis") && r.Components.Any(c => c.Type == "state.redis"));
        Assert.Contains(cluster, r => r.Components.Any(c => c.Type == "pubsub.kafka") && r.Components.Any(c => c.Type == "state.postgresql"));
    }

    [Fact]
    public void TopicScopes_RealComponents_EveryRegionHasTheScopesOfContracts()
    {
        foreach (var region in TreeCopy.Real.Regions())
        {
            Expect.None(RegionRules.TopicScopes(TreeCopy.Real, region));
            Assert.False(string.IsNullOrEmpty(region.Components.Single(c => c.Name == "vote-bus").Value("publishingScopes")), $"{region.Name}: vote-bus sets publishingScopes");
        }
    }

    [Theory]
    [InlineData("region-a")]
    [InlineData("region-b")]
    [InlineData("local")]
    public void TopicScopes_ResultsMayPublishVotes_Reported(string region)
    {
        _copy.Edit($"components/{region}/resources/pubsub.yaml", ";results=data-reports;", ";results=data-reports,votes;");

        Expect.Only(RegionRules.TopicScopes(_copy.Tree, _copy.Region(region)),
            (Rules.TopicScopes, $"components/{region}/resources/pubsub.yaml", "publishingScopes lets 'results' use 'votes', which Topics.Scopes does not"));
    }

    [Fact]
    public void TopicScopes_VotesNoLongerProtected_Reported()
    {
        _copy.Edit($"{B}/resources/pubsub.yaml", "name: protectedTopics\n    value: \"votes,votes-dlq,", "name: protectedTopics\n    value: \"votes-dlq,");

        Expect.Only(RegionRules.TopicScopes(_copy.Tree, _copy.Region("region-b")),
            (Rules.TopicScopes, $"{B}/resources/pubsub.yaml", "protectedTopics leaves out 'votes'"));
    }

    [Fact]
    public void TopicScopes_StrangerSubscribesToVotes_Reported()
    {
        _copy.Edit($"{A}/resources/pubsub.yaml", ";orchestrator=window-reports,data-reports\"", ";orchestrator=window-reports,data-reports;spy=votes\"");

        Expect.Only(RegionRules.TopicScopes(_copy.Tree, _copy.Region("region-a")),
            (Rules.TopicScopes, $"{A}/resources/pubsub.yaml", "subscriptionScopes names 'spy', which is not an app id"));
    }

    [Fact]
    public void Names_RegionRenamesItsStateStore_MissingAndUnknownNameReported()
    {
        _copy.Edit($"{B}/resources/statestore.yaml", "name: fanvote-state", "name: fanvote-store");

        Expect.Only(RegionRules.Names(_copy.Tree, _copy.Region("region-b")),
            (Rules.Names, $"{B}/resources", "defines no component 'fanvote-state'"),
            (Rules.Names, $"{B}/resources/statestore.yaml", "component 'fanvote-store' is not a name"));
    }

    [Fact]
    public void Residency_UnlabelledRegion_AStoreOfAnotherRegion_ABinding_Reported()
    {
        _copy.Edit($"{A}/kustomization.yaml", "- pairs: { fanvote.io/region: region-a }", "- pairs: { team: votes }");
        _copy.Edit($"{B}/resources/statestore.yaml", "spec:\n", "spec:\n  # copied from region-a's store\n");
        _copy.Write($"{B}/resources/export.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: export }
            spec:
              type: bindings.http
              version: v1
              metadata: [ { name: url, secretKeyRef: { name: fanvote-export, key: url } } ]
            auth: { secretStore: fanvote-secrets }
            scopes: [tally]
            """);

        Expect.Only(RegionRules.Residency(_copy.Tree, _copy.Region("region-a")),
            (Rules.Residency, $"{A}/kustomization.yaml", "does not label its resources fanvote.io/region: region-a"));
        Expect.Only(RegionRules.Residency(_copy.Tree, _copy.Region("region-b")),
            (Rules.Residency, $"{B}/resources/statestore.yaml", "names region 'region-a'"),
            (Rules.Residency, $"{B}/resources/export.yaml", "component 'export' is a bindings.http"));
    }

    [Fact]
    public void Names_ComponentDefinedTwice_Reported()
    {
        _copy.Write($"{A}/resources/pubsub-copy.yaml", File.ReadAllText(_copy.PathOf($"{A}/resources/pubsub.yaml")));

        Expect.Only(RegionRules.Names(_copy.Tree, _copy.Region("region-a")),
            (Rules.Names, $"{A}/resources", "component 'vote-bus' is defined 2 times"));
    }

    [Fact]
    public void ActorStore_NoneOrTwo_Reported()
    {
        _copy.Edit($"{A}/resources/statestore.yaml", "  - name: actorStateStore\n    value: \"true\"", "  - name: actorStateStore\n    value: \"false\"");
        _copy.Write("components/local/resources/statestore2.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: second-store }
            spec:
              type: state.in-memory
              version: v1
              metadata: [ { name: actorStateStore, value: "true" } ]
            scopes: [orchestrator]
            """);

        Expect.Only(RegionRules.ActorStore(_copy.Tree, _copy.Region("region-a")), (Rules.ActorStore, $"{A}/resources", "0 state components"));
        Expect.Only(RegionRules.ActorStore(_copy.Tree, _copy.Region("local")), (Rules.ActorStore, "components/local/resources", "2 state components"));
    }

    [Fact]
    public void Scopes_UnknownAppIdOrNoScopes_Reported()
    {
        _copy.Edit($"{A}/resources/pubsub.yaml", "scopes: [ingress, tally,", "scopes: [ingress, talley,");
        _copy.Edit($"{B}/resources/resiliency.yaml", "scopes: [ingress, tally, fraud, results, rewards, orchestrator]\n", "");

        Expect.Only(RegionRules.Scopes(_copy.Tree, _copy.Region("region-a")), (Rules.Scopes, $"{A}/resources/pubsub.yaml", "scoped to 'talley', which is not an app id"));
        Expect.Only(RegionRules.Scopes(_copy.Tree, _copy.Region("region-b")), (Rules.Scopes, $"{B}/resources/resiliency.yaml", "resiliency 'fanvote' has no scopes"));
    }

    [Fact]
    public void Resiliency_TargetNamesAnUnknownComponent_Reported()
    {
        _copy.Edit($"{B}/resources/resiliency.yaml", "      vote-bus:\n", "      votes-bus:\n");

        Expect.Only(RegionRules.Resiliency(_copy.Tree, _copy.Region("region-b")),
            (Rules.Resiliency, $"{B}/resources/resiliency.yaml", "targets component 'votes-bus', which this region does not define"),
            (Rules.Resiliency, $"{B}/resources", "no inbound retry for 'vote-bus'"),
            (Rules.Resiliency, $"{B}/resources", "no circuit breaker for 'vote-bus'"));
    }

    [Fact]
    public void Resiliency_UndefinedPolicyOrZeroRetries_Reported()
    {
        _copy.Edit($"{A}/resources/resiliency.yaml", "          retry: store\n", "          retry: storage\n");
        _copy.Edit("components/local/resources/resiliency.yaml", "        maxRetries: 30", "        maxRetries: 0");

        Expect.Only(RegionRules.Resiliency(_copy.Tree, _copy.Region("region-a")),
            (Rules.Resiliency, $"{A}/resources/resiliency.yaml", "fanvote-state.outbound names retry 'storage'"));
        Expect.Only(RegionRules.Resiliency(_copy.Tree, _copy.Region("local")),
            (Rules.Resiliency, "components/local/resources/resiliency.yaml", "inbound retry 'deliver' of 'vote-bus' has maxRetries 0"));
    }

    [Fact]
    public void Resiliency_StateWithoutCircuitBreaker_Reported()
    {
        _copy.Edit($"{B}/resources/resiliency.yaml", "          timeout: storeCall\n          circuitBreaker: store\n", "          timeout: storeCall\n");

        Expect.Only(RegionRules.Resiliency(_copy.Tree, _copy.Region("region-b")), (Rules.Resiliency, $"{B}/resources", "no circuit breaker for 'fanvote-state'"));
    }

    [Fact]
    public void Metadata_KafkaWithoutConsumerGroupOrPassword_Reported()
    {
        _copy.Edit($"{B}/resources/pubsub.yaml", "  - name: consumerGroup\n    value: \"{appID}\"\n", "");
        _copy.Edit($"{B}/resources/pubsub.yaml", "  - name: saslPassword\n    secretKeyRef: { name: fanvote-kafka, key: password }\n", "");

        Expect.Only(RegionRules.Metadata(_copy.Tree, _copy.Region("region-b")),
            (Rules.Metadata, $"{B}/resources/pubsub.yaml", "has no 'consumerGroup'"),
            (Rules.Metadata, $"{B}/resources/pubsub.yaml", "has authType 'password' but no 'saslPassword'"));
    }

    [Fact]
    public void Metadata_KafkaGroupSharedByEveryApp_Reported()
    {
        _copy.Edit($"{B}/resources/pubsub.yaml", "value: \"{appID}\"", "value: \"fanvote\"");

        Expect.Only(RegionRules.Metadata(_copy.Tree, _copy.Region("region-b")),
            (Rules.Metadata, $"{B}/resources/pubsub.yaml", "consumerGroup 'fanvote' without {appID}"));
    }

    [Fact]
    public void Metadata_MissingHostOrConnectionOrTrimmedStream_Reported()
    {
        _copy.Edit($"{A}/resources/statestore.yaml", "  - name: redisHost\n    secretKeyRef: { name: fanvote-redis, key: host }\n", "");
        _copy.Edit($"{A}/resources/pubsub.yaml", "  - name: concurrency\n", "  - name: maxLenApprox\n    value: \"100000\"\n  - name: concurrency\n");
        _copy.Edit($"{B}/resources/statestore.yaml", "  - name: connectionString\n", "  - name: connString\n");

        Expect.Only(RegionRules.Metadata(_copy.Tree, _copy.Region("region-a")),
            (Rules.Metadata, $"{A}/resources/statestore.yaml", "component 'fanvote-state' (state.redis) has no 'redisHost'"),
            (Rules.Metadata, $"{A}/resources/pubsub.yaml", "sets 'maxLenApprox'"));
        Expect.Only(RegionRules.Metadata(_copy.Tree, _copy.Region("region-b")),
            (Rules.Metadata, $"{B}/resources/statestore.yaml", "(state.postgresql) has no 'connectionString'"));
    }

    [Fact]
    public void Metadata_TypeWithoutARule_Reported()
    {
        _copy.Edit($"{B}/resources/pubsub.yaml", "type: pubsub.kafka", "type: pubsub.rabbitmq");

        Expect.Only(RegionRules.Metadata(_copy.Tree, _copy.Region("region-b")),
            (Rules.Metadata, $"{B}/resources/pubsub.yaml", "type 'pubsub.rabbitmq', for which no metadata rule exists"));
    }

    [Fact]
    public void Secrets_PasswordInTheFileOrNoSecretStore_Reported()
    {
        _copy.Edit($"{A}/resources/pubsub.yaml", "  - name: redisPassword\n    secretKeyRef: { name: fanvote-redis, key: password }", "  - name: redisPassword\n    value: \"hunter2\"");
        _copy.Edit($"{B}/resources/pubsub.yaml", "auth:\n  secretStore: fanvote-secrets\n", "");
        _copy.Edit($"{B}/resources/statestore.yaml", "secretStore: fanvote-secrets", "secretStore: vault");

        Expect.Only(RegionRules.Secrets(_copy.Tree, _copy.Region("region-a")),
            (Rules.Secrets, $"{A}/resources/pubsub.yaml", "sets 'redisPassword' in the file"));
        Expect.Only(RegionRules.Secrets(_copy.Tree, _copy.Region("region-b")),
            (Rules.Secrets, $"{B}/resources/pubsub.yaml", "uses secretKeyRef but names no auth.secretStore"),
            (Rules.Secrets, $"{B}/resources/statestore.yaml", "names secret store 'vault', which this region does not define"));
    }

    [Fact]
    public void Secrets_LocalFolder_MayUseLoopbackValues()
    {
        // local/ reads its Redis address from the environment: the secret rule is for region folders only.
        Assert.DoesNotContain(RegionRules.All(TreeCopy.Real), f => f.Rule == Rules.Secrets);
        Assert.Contains(TreeCopy.Real.Regions().Single(r => r.IsLocal).Components, c => c.Item("redisHost") is { EnvRef: not null });
        Assert.NotEmpty(RegionRules.Secrets(TreeCopy.Real, TreeCopy.Real.Regions().Single(r => r.IsLocal)));
    }

    [Fact]
    public void Configuration_Missing_Reported()
    {
        _copy.Delete($"{A}/config.yaml");

        Expect.Only(RegionRules.Configuration(_copy.Tree, _copy.Region("region-a")), (Rules.Configuration, $"{A}/config.yaml", "is missing"));
    }

    [Fact]
    public void Kustomization_ForgetsAFileOrTheSecretPatch_Reported()
    {
        _copy.Edit($"{B}/kustomization.yaml", "- resources/resiliency.yaml\n", "");
        _copy.Edit($"{A}/kustomization.yaml", "secretStore: kubernetes", "secretStore: fanvote-secrets");

        Expect.Only(RegionRules.Kustomization(_copy.Tree, _copy.Region("region-b")), (Rules.Kustomization, $"{B}/kustomization.yaml", "does not list resources/resiliency.yaml"));
        Expect.Only(RegionRules.Kustomization(_copy.Tree, _copy.Region("region-a")), (Rules.Kustomization, $"{A}/kustomization.yaml", "no patch points the components' auth.secretStore at `kubernetes`"));
    }

    [Fact]
    public void SwapOnly_RegionChangesAScopeOrAComment_Reported()
    {
        _copy.Edit($"{B}/resources/pubsub.yaml", "scopes: [ingress, tally, fraud, results, rewards, orchestrator]", "scopes: [ingress, tally, results, rewards, orchestrator]");
        _copy.Edit($"{B}/resources/statestore.yaml", "# fanvote-state: the state store", "# fanvote-state: the PostgreSQL state store");

        var regions = _copy.Tree.Regions();
        Expect.Only(RegionRules.SwapOnly(_copy.Tree, regions, "pubsub.yaml"), (Rules.Swap, $"{B}/resources/pubsub.yaml", "its diff is more than the swap"));
        Expect.Only(RegionRules.SwapOnly(_copy.Tree, regions, "statestore.yaml"), (Rules.Swap, $"{B}/resources/statestore.yaml", "its diff is more than the swap"));
    }
}
