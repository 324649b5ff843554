using FanVote.Contracts;

namespace FanVote.Components.Tests.Checks;

/// <summary>Rules that read the services' sources: every subscription that carries votes has a dead-letter topic.</summary>
public static class SourceRules
{
    /// <summary>
    /// Redis Streams acknowledges a message once its retries are exhausted (docs/dapr-subset.md §6.1): without a
    /// dead-letter topic that vote is gone. Applies to subscriptions in code and declarative ones in components/.
    /// </summary>
    public static IEnumerable<Finding> DeadLetters(RepoTree repo)
    {
        ArgumentNullException.ThrowIfNull(repo);
        var scan = new SourceScan(repo.ServiceSources());
        foreach (var s in scan.Subscriptions().Where(s => s.Topic == Topics.Votes))
        {
            if (string.IsNullOrEmpty(s.DeadLetterTopic) || s.DeadLetterTopic == s.Topic)
            {
                yield return new Finding(Rules.DeadLetter, $"{repo.Rel(s.File)}:{s.Line}", $"subscription to '{s.Topic}' has no dead-letter topic ({s.Source})");
            }
        }

        foreach (var s in scan.Unreadable)
        {
            yield return new Finding(Rules.DeadLetter, $"{repo.Rel(s.File)}:{s.Line}", $"cannot tell which topic this subscribes to ({s.Source}); write the TopicOptions inline or in a local variable, with names from FanVote.Contracts");
        }

        foreach (var region in repo.Regions())
        {
            foreach (var s in region.Subscriptions.Where(s => s.Topic == Topics.Votes && (string.IsNullOrEmpty(s.DeadLetterTopic) || s.DeadLetterTopic == s.Topic)))
            {
                yield return new Finding(Rules.DeadLetter, repo.Rel(s.File), $"declarative subscription '{s.Name}' to '{s.Topic}' has no deadLetterTopic");
            }
        }
    }

    /// <summary>The subscriptions to votes the checks saw (so a test can show it finds the real ones).</summary>
    public static IReadOnlyList<CodeSubscription> VoteSubscriptions(RepoTree repo)
    {
        ArgumentNullException.ThrowIfNull(repo);
        return [.. new SourceScan(repo.ServiceSources()).Subscriptions().Where(s => s.Topic == Topics.Votes)];
    }
}
