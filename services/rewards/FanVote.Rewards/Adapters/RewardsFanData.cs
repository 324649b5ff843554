using System.Text.Json;
using FanVote.Contracts;
using FanVote.Rewards.Core;
using FanVote.ServiceDefaults;

namespace FanVote.Rewards.Adapters;

/// <summary>
/// Rewards' part of a fan's export and erasure. The points ledger is append-only and hash-chained, and it names
/// accounts only by their id (a random id ingress links to the person until the erasure): it stays as it is, so the
/// chain and every balance stay verifiable. What the erasure changes is the consent row.
/// </summary>
public sealed class RewardsFanData(PostgresPointsLedger ledger, PostgresSpinWheels wheels, PostgresRaffles raffles, PostgresPolls polls, PostgresTrivia trivia) : IFanDataHolder
{
    public const int MaxLines = 10_000;

    public async Task<JsonElement> ExportAsync(string accountId, CancellationToken cancellationToken)
    {
        var account = Accounts.Fan(accountId);
        var lines = await ledger.StatementAsync(account, beforeSeq: null, MaxLines, cancellationToken);
        var (granted, at, voted) = await ledger.FanRecordsAsync(accountId, cancellationToken);
        return JsonSerializer.SerializeToElement(new
        {
            ledgerAccount = account,
            balance = await ledger.BalanceAsync(account, cancellationToken),
            statement = lines,
            statementComplete = lines.Count < MaxLines,
            rewardsConsent = granted is null ? null : new { granted, changedAt = at },
            countedVotes = voted.Select(v => new { windowId = v.WindowId, candidateId = v.Candidate, votes = v.Votes }),
            spins = await wheels.SpinsAsync(accountId, wheelId: null, MaxLines, cancellationToken),
            raffleEntries = await raffles.EntriesOfAsync(accountId, MaxLines, cancellationToken),
            vipTiers = await PostgresTiers.ExportAsync(ledger.DataSource, accountId, cancellationToken),
            pollAnswers = await polls.AnswersOfAsync(accountId, cancellationToken),
            triviaAnswers = await trivia.AnswersOfAsync(accountId, cancellationToken),
        }, FanVoteJson.Options);
    }

    public async Task<ErasureOutcome> EraseAsync(string accountId, CancellationToken cancellationToken)
    {
        await ledger.EraseConsentAsync(accountId, cancellationToken);
        return new ErasureOutcome(
            ["when you gave or withdrew \"rewards\": the account is kept as \"no rewards\", so no later window pays it"],
            [
                "the account's points ledger lines and balance, under the account id (a random id no longer linked to you): the ledger is hash-chained and append-only, and every balance in it must stay verifiable",
                "the account's counted votes per window of payouts (account id, candidate, count), for the same reason",
                "the account's spins (wheel, nonce, client seed, outcome): each is a ledger entry's reason, and the wheel's fairness is checked from them",
                "the account's raffle tickets: the published entry lists the draws were made from name only a per-raffle pseudonym, and must stay as drawn",
                "the account's earned points and VIP tier per season, and its tier changes: they follow from the ledger lines kept",
                "the account's poll answers and trivia answers: the counts and leaderboards are made of them, and must not change after the fact",
            ]);
    }
}
