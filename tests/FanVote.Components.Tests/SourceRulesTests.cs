using FanVote.Components.Tests.Checks;

namespace FanVote.Components.Tests;

/// <summary>Every subscription that carries votes has a dead-letter topic, however the service declares it.</summary>
public sealed class SourceRulesTests : IDisposable
{
    private const string TallySubscriptions = "services/tally/FanVote.Tally/Subscriptions/VoteSubscriptions.cs";
    private const string FraudLike = "services/fraud/FanVote.Fraud/Subscriptions/VoteFeed.cs";
    private readonly TreeCopy _copy = new();

    public void Dispose() => _copy.Dispose();

    [Fact]
    public void RealSources_EveryVotesSubscription_HasADeadLetterTopic()
    {
        var votes = SourceRules.VoteSubscriptions(TreeCopy.Real);

        Expect.None(SourceRules.DeadLetters(TreeCopy.Real));
        var tally = Assert.Single(votes, s => s.File.EndsWith(TallySubscriptions, StringComparison.Ordinal));
        Assert.Equal("votes-dlq", tally.DeadLetterTopic);
        Assert.Equal("vote-bus", tally.PubsubName);
    }

    [Fact]
    public void DeadLetters_TallyLosesItsDeadLetterTopic_ReportedAtThatLine()
    {
        // Tally subscribes through the shared bulk-subscription helper: the dead-letter topic is read at its call site.
        _copy.Edit(TallySubscriptions, "(Topics.Votes, Topics.VotesDeadLetter,", "(Topics.Votes, \"\",");
        var line = File.ReadAllLines(_copy.PathOf(TallySubscriptions)).ToList().FindIndex(l => l.Contains("MapBulkSubscription<", StringComparison.Ordinal)) + 1;

        Expect.Only(SourceRules.DeadLetters(_copy.Tree), (Rules.DeadLetter, $"{TallySubscriptions}:{line}", "subscription to 'votes' has no dead-letter topic"));
    }

    [Theory]
    [InlineData("app.MapPost(\"/votes\", Handle).WithTopic(ComponentNames.VoteBus, Topics.Votes);")]
    [InlineData("app.MapPost(\"/votes\", Handle).WithTopic(\"vote-bus\", \"votes\", enableRawPayload: true);")]
    [InlineData("app.MapPost(\"/votes\", Handle).WithTopic(new TopicOptions { PubsubName = ComponentNames.VoteBus, Name = Topics.Votes });")]
    [InlineData("app.MapPost(\"/votes\", Handle).WithMetadata(new TopicAttribute(\"vote-bus\", Topics.Votes, \"event.type == 'x'\", 1));")]
    public void DeadLetters_AnotherServiceSubscribesWithoutOne_Reported(string declaration)
    {
        _copy.Write(FraudLike, FraudSource(declaration));

        var finding = Assert.Single(SourceRules.DeadLetters(_copy.Tree));
        Assert.Equal(Rules.DeadLetter, finding.Rule);
        Assert.StartsWith(FraudLike + ":", finding.Where, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("app.MapPost(\"/votes\", Handle).WithTopic(new TopicOptions { PubsubName = ComponentNames.VoteBus, Name = Topics.Votes, DeadLetterTopic = Topics.VotesDeadLetter });")]
    [InlineData("var options = new TopicOptions { PubsubName = \"vote-bus\", Name = \"votes\" }; options.DeadLetterTopic = \"fraud-votes-dlq\"; app.MapPost(\"/votes\", Handle).WithTopic(options);")]
    [InlineData("app.MapPost(\"/votes\", Handle).WithMetadata(new TopicAttribute(\"vote-bus\", Topics.Votes, Topics.VotesDeadLetter, false));")]
    [InlineData("app.MapPost(\"/flags\", Handle).WithTopic(ComponentNames.VoteBus, Topics.VoteFlags);")]
    public void DeadLetters_AnotherServiceSubscribesWithOneOrToAnotherTopic_Passes(string declaration)
    {
        var before = SourceRules.VoteSubscriptions(_copy.Tree).Count;
        _copy.Write(FraudLike, FraudSource(declaration));

        Expect.None(SourceRules.DeadLetters(_copy.Tree));
        Assert.Equal(before + (declaration.Contains("Topics.VoteFlags", StringComparison.Ordinal) ? 0 : 1), SourceRules.VoteSubscriptions(_copy.Tree).Count);
    }

    [Fact]
    public void DeadLetters_ControllerAttributeWithoutOne_Reported()
    {
        _copy.Write(FraudLike, """
            namespace FanVote.Fraud;
            public sealed class VoteController : ControllerBase
            {
                [Topic("vote-bus", "votes")]
                [HttpPost("/votes")]
                public IActionResult Post() => Ok();

                [Topic("vote-bus", "votes", DeadLetterTopic = "votes-dlq")]
                [HttpPost("/votes2")]
                public IActionResult Post2() => Ok();
            }
            """);

        Expect.Only(SourceRules.DeadLetters(_copy.Tree), (Rules.DeadLetter, $"{FraudLike}:4", "subscription to 'votes' has no dead-letter topic"));
    }

    [Fact]
    public void DeadLetters_TopicThatCannotBeRead_Reported()
    {
        _copy.Write(FraudLike, FraudSource("app.MapPost(\"/votes\", Handle).WithTopic(BuildOptions());"));

        Expect.Only(SourceRules.DeadLetters(_copy.Tree), (Rules.DeadLetter, $"{FraudLike}:8", "cannot tell which topic this subscribes to"));
    }

    [Theory]
    [InlineData("Topics.Votes", 1)]
    [InlineData("Topics.VoteFlags", 0)]
    public void DeadLetters_HelperTakingTheTopic_ReadAtEachCallSite(string topic, int findings)
    {
        _copy.Write(FraudLike, $$"""
            using Dapr;
            using FanVote.Contracts;
            namespace FanVote.Fraud;
            public static class VoteFeed
            {
                public static RouteHandlerBuilder OnTopic(this RouteHandlerBuilder endpoint, string topic) =>
                    endpoint.WithTopic(new TopicOptions { PubsubName = ComponentNames.VoteBus, Name = topic });

                public static WebApplication MapVoteFeed(this WebApplication app)
                {
                    app.MapPost("/flags", Handle).OnTopic(Topics.VoteFlags);
                    app.MapPost("/feed", Handle).OnTopic({{topic}});
                    return app;
                }
            }
            """);

        var found = SourceRules.DeadLetters(_copy.Tree).ToList();

        Assert.Equal(findings, found.Count);
        Assert.All(found, f => Assert.Equal($"{FraudLike}:12", f.Where));
    }

    [Fact]
    public void DeadLetters_DeclarativeSubscriptionWithoutOne_Reported()
    {
        _copy.Write("components/region-a/resources/subscriptions.yaml", """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata: { name: votes-audit }
            spec:
              pubsubname: vote-bus
              topic: votes
              routes: { default: /votes }
            scopes: [rewards]
            """);

        Expect.Only(SourceRules.DeadLetters(_copy.Tree),
            (Rules.DeadLetter, "components/region-a/resources/subscriptions.yaml", "declarative subscription 'votes-audit' to 'votes' has no deadLetterTopic"));
    }

    private static string FraudSource(string declaration) => $$"""
        using Dapr;
        using FanVote.Contracts;
        namespace FanVote.Fraud;
        public static class VoteFeed
        {
            public static WebApplication MapVoteFeed(this WebApplication app)
            {
                {{declaration}}
                return app;
            }
        }
        """;
}
