namespace FanVote.Fraud.Core;

/// <summary>
/// One vote as the feature extractor sees it. Times are Unix milliseconds (UTC); the extractor runs on event time,
/// never on the clock, so replaying a CSV in the trainer and serving the live stream compute the same features.
/// </summary>
public readonly record struct VoteInput(
    Guid VoteId,
    string WindowId,
    string CandidateId,
    string AccountId,
    string DeviceId,
    string Ip,
    long AcceptedAtMs,
    long AccountCreatedAtMs);
