using System.Text.Json;
using FanVote.Contracts;
using FanVote.Fraud.Scoring;
using FanVote.ServiceDefaults;

namespace FanVote.Fraud.Privacy;

/// <summary>
/// Fraud's part of a fan's export and erasure: it stores nothing, and keeps in memory per account its votes of the last
/// 10 minutes (for the velocity features) and a suspicion tracker. Flags it raised are in tally's ledger (tally's part).
/// With several fraud instances each holds the accounts whose votes it scored; a request reaches one of them, and what
/// the others hold goes 11 minutes after the account's last vote (the erasure stops its votes first).
/// </summary>
public sealed class FraudFanData(FraudPipeline pipeline) : IFanDataHolder
{
    public async Task<JsonElement> ExportAsync(string accountId, CancellationToken cancellationToken)
    {
        var held = await pipeline.OnStateAsync((features, _) => features.Describe(accountId), cancellationToken);
        return JsonSerializer.SerializeToElement(new
        {
            inMemory = held is { } h
                ? new { votesInLast10Minutes = h.VotesIn10m, lastVoteAt = DateTimeOffset.FromUnixTimeMilliseconds(h.LastSeenMs) }
                : null,
            note = "fraud keeps your votes' times, candidates, device and network in memory for 10 minutes to score new votes, and stores nothing; flags it raised are listed with your votes (tally)",
        }, FanVoteJson.Options);
    }

    public async Task<ErasureOutcome> EraseAsync(string accountId, CancellationToken cancellationToken)
    {
        await pipeline.OnStateAsync((features, decisions) => features.Forget(accountId) | decisions.Forget(accountId), cancellationToken);
        return new ErasureOutcome(
            ["the account's recent votes and suspicion kept in memory by this instance"],
            ["device and network counters (they hold no account id, only a hash of it among others) and other instances' memory, until 11 minutes after the account's last vote"]);
    }
}
