using FanVote.Security;

namespace FanVote.Testing;

/// <summary>Consent as a sign-in body sends it ("consent": [...]), for tests whose fans go on to vote.</summary>
public static class TestConsent
{
    /// <summary>What voting needs: counting and fraud prevention, under their current (first) versions.</summary>
    public static object[] Voting { get; } = Choices((Purposes.Counting, true), (Purposes.FraudPrevention, true));

    /// <summary>A fan who votes and collects points: counting, fraud prevention and rewards (payouts credit only fans who gave rewards).</summary>
    public static object[] Fan { get; } = Choices((Purposes.Counting, true), (Purposes.FraudPrevention, true), (Purposes.Rewards, true));

    public static object[] Choices(params (Purposes Purpose, bool Granted)[] choices) =>
        [.. choices.Select(c => new { purpose = PurposeNames.Name(c.Purpose), granted = c.Granted, version = PrivacyPolicy.FirstVersion })];
}
