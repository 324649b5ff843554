namespace FanVote.Rewards;

internal static partial class RewardsLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "window {WindowId} paid: {Points} points to {Accounts} accounts, ledger head #{HeadSeq}")]
    public static partial void Paid(ILogger logger, string windowId, long points, long accounts, long headSeq);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "payout of window {WindowId} waits for its counted voters ({Have} of {Need} chunks); asked tally for them")]
    public static partial void WaitingForVoters(ILogger logger, string windowId, int have, int need);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "counted voters of window {WindowId} do not match the certified voters digest: discarded and asked for again, nothing paid")]
    public static partial void VotersMismatch(ILogger logger, string windowId);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "points ledger not reachable yet, retrying")]
    public static partial void LedgerWaiting(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "credited {Points} points to {AccountId} for window {WindowId} ({Reason})")]
    public static partial void Credited(ILogger logger, long points, FanVote.ServiceDefaults.RedactedId accountId, string windowId, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "single credit of {Points} points for window {WindowId} refused: out of bounds or malformed")]
    public static partial void CreditRefused(ILogger logger, string windowId, long points);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "rewards connects to PostgreSQL as {Role}, which {What}: it could rewrite the points ledger. Allowed in Development only; run the migrate step and connect as the restricted role")]
    public static partial void PrivilegedLedgerRole(ILogger logger, string role, string what);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "{Setting} is not set: the ledger's heads are not anchored outside the database (allowed in Development only)")]
    public static partial void NoAnchors(ILogger logger, string setting);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "could not anchor the ledger head #{Seq}; the periodic anchoring retries")]
    public static partial void AnchorFailed(ILogger logger, Exception exception, long seq);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "payout of window {WindowId} waits for the consent of {Voters} counted voters (their ConsentChanged not here yet), at most until {Until}")]
    public static partial void WaitingForConsent(ILogger logger, string windowId, int voters, DateTimeOffset until);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "a payout waiting for consent records could not be tried again; next try in a second")]
    public static partial void ConsentRetryFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "ledger head #{Seq} anchored")]
    public static partial void Anchored(ILogger logger, long seq);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "operator {Operator} created spin wheel {WheelId}: cost {Cost}, {Segments} segments, expected payout {ExpectedPayout:0.###} per spin, commitment {Commitment}")]
    public static partial void WheelCreated(ILogger logger, string @operator, string wheelId, long cost, int segments, decimal expectedPayout, string commitment);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "operator {Operator} closed spin wheel {WheelId}; its server seed is revealed")]
    public static partial void WheelClosed(ILogger logger, string @operator, string wheelId);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "operator {Operator} created raffle {RaffleId}: ticket cost {TicketCost}, {Winners} winners, commitment {Commitment}")]
    public static partial void RaffleCreated(ILogger logger, string @operator, string raffleId, long ticketCost, int winners, string commitment);

    [LoggerMessage(EventId = 17, Level = LogLevel.Information, Message = "raffle {RaffleId} drawn: {Winners} winners from {Tickets} tickets (by {By}); its server seed is revealed")]
    public static partial void RaffleDrawn(ILogger logger, string raffleId, int winners, long tickets, string by);

    [LoggerMessage(EventId = 19, Level = LogLevel.Warning, Message = "tier changes could not be published now; they stay in the outbox for the next tick")]
    public static partial void TierPublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "operator {Operator} created poll {PollId}: {Questions} questions, open {OpensAt} to {ClosesAt}")]
    public static partial void PollCreated(ILogger logger, string @operator, string pollId, int questions, DateTimeOffset opensAt, DateTimeOffset closesAt);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "poll results could not be published now; the next tick sends them")]
    public static partial void PollPublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 24, Level = LogLevel.Information, Message = "operator {Operator} closed poll {PollId} before its close time")]
    public static partial void PollClosed(ILogger logger, string @operator, string pollId);

    [LoggerMessage(EventId = 22, Level = LogLevel.Information, Message = "operator {Operator} created trivia round {RoundId}: {Questions} questions from {StartsAt}")]
    public static partial void TriviaCreated(ILogger logger, string @operator, string roundId, int questions, DateTimeOffset startsAt);
}
