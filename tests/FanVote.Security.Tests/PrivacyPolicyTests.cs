namespace FanVote.Security.Tests;

public sealed class PrivacyPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("kr", 2012, AgeBand.Child)]    // 13 or 14 in 2026: 14 only for sure in 2027 (kr: 14)
    [InlineData("kr", 2011, AgeBand.Minor)]    // 14 for sure
    [InlineData("kr", 2007, AgeBand.Minor)]    // 18 for sure, under kr's 19
    [InlineData("kr", 2006, AgeBand.Adult)]
    [InlineData("us", 2012, AgeBand.Minor)]    // 13 for sure: COPPA's line passed
    [InlineData("us", 2013, AgeBand.Child)]
    [InlineData("eu", 2008, AgeBand.Minor)]    // 17 for sure
    [InlineData("eu", 2010, AgeBand.Child)]    // 15 or 16: 16 for sure only in 2027
    [InlineData("eu", 2009, AgeBand.Minor)]    // 16 for sure
    [InlineData("nowhere", 2008, AgeBand.Minor)] // unknown region: global (16/18)
    public void AgeBand_CountsAnAgeOnlyOnceItIsCertain(string region, int birthYear, AgeBand expected) =>
        Assert.Equal(expected, new PrivacyPolicy(region).BandOf(birthYear, Now));

    [Fact]
    public void NoBirthYear_IsUnknown_AndThresholdsAreConfigurable()
    {
        Assert.Equal(AgeBand.Unknown, new PrivacyPolicy("eu").BandOf(null, Now));
        Assert.Equal(AgeBand.Adult, new PrivacyPolicy("kr", new AgeThresholds(14, 18)).BandOf(2007, Now));
        Assert.Throws<ArgumentException>(() => new PrivacyPolicy("kr", new AgeThresholds(19, 14)));
        Assert.NotNull(PrivacyPolicy.BirthYearProblem(1899, Now));
        Assert.NotNull(PrivacyPolicy.BirthYearProblem(2027, Now));
        Assert.Null(PrivacyPolicy.BirthYearProblem(2026, Now));
    }

    [Fact]
    public void Marketing_OnlyForAdults_Rewards_ForAChildOnlyWithAGuardian_WithdrawingAlways()
    {
        var policy = new PrivacyPolicy("kr");
        Assert.Contains("birth year", policy.RefuseGrant(Purposes.Marketing, AgeBand.Unknown, false), StringComparison.Ordinal);
        Assert.Contains("19 or older", policy.RefuseGrant(Purposes.Marketing, AgeBand.Minor, true), StringComparison.Ordinal);
        Assert.NotNull(policy.RefuseGrant(Purposes.Marketing, AgeBand.Child, true));
        Assert.Null(policy.RefuseGrant(Purposes.Marketing, AgeBand.Adult, false));
        Assert.Contains("guardian", policy.RefuseGrant(Purposes.Rewards, AgeBand.Child, false), StringComparison.Ordinal);
        Assert.Null(policy.RefuseGrant(Purposes.Rewards, AgeBand.Child, true));
        Assert.Null(policy.RefuseGrant(Purposes.Rewards, AgeBand.Unknown, false));
        Assert.All(PurposeNames.All.Where(p => p != Purposes.Marketing && p != Purposes.Rewards), p => Assert.Null(policy.RefuseGrant(p, AgeBand.Child, false)));
    }

    [Fact]
    public void Effective_TakesOnlyCurrentVersions_AndWhatTheBandAllows()
    {
        var policy = new PrivacyPolicy("eu", versions: new Dictionary<Purposes, string> { [Purposes.Rewards] = "2027-02-01" });
        PurposeChoice[] choices =
        [
            new(Purposes.Counting, true, PrivacyPolicy.FirstVersion),
            new(Purposes.FraudPrevention, false, PrivacyPolicy.FirstVersion),
            new(Purposes.Rewards, true, PrivacyPolicy.FirstVersion), // given under the old terms: lapsed
            new(Purposes.Marketing, true, PrivacyPolicy.FirstVersion),
        ];
        Assert.Equal(Purposes.Counting | Purposes.Marketing, policy.Effective(choices, AgeBand.Adult, false));
        Assert.Equal(Purposes.Counting, policy.Effective(choices, AgeBand.Minor, false)); // marketing never for a minor
        Assert.Equal("2027-02-01", policy.TermsOf(Purposes.Rewards).Version);
        Assert.Equal(PurposeNames.NeededToVote, Purposes.Counting | Purposes.FraudPrevention);
        Assert.All(policy.AllTerms, t => Assert.Equal(t.NeededToVote, (PurposeNames.NeededToVote & t.Purpose) != 0));
    }

    [Fact]
    public void Paying_IsForAdultsSignedInWithAPasscode_GuestsAreTreatedAsMinors()
    {
        var policy = new PrivacyPolicy("us");
        Assert.Null(policy.RefusePayment(SessionKind.Otp, AgeBand.Adult));
        Assert.Contains("Guests", policy.RefusePayment(SessionKind.Guest, AgeBand.Adult), StringComparison.Ordinal);
        Assert.Contains("birth year", policy.RefusePayment(SessionKind.Otp, AgeBand.Unknown), StringComparison.Ordinal);
        Assert.Contains("18 or older", policy.RefusePayment(SessionKind.Otp, AgeBand.Minor), StringComparison.Ordinal);
        Assert.NotNull(policy.RefusePayment(SessionKind.Otp, AgeBand.Child));
    }

    [Fact]
    public void PurposeNames_RoundTrip()
    {
        foreach (var p in PurposeNames.All)
        {
            Assert.True(PurposeNames.TryParse(PurposeNames.Name(p).ToUpperInvariant(), out var back));
            Assert.Equal(p, back);
        }

        Assert.False(PurposeNames.TryParse("telemetry", out _));
        Assert.False(PurposeNames.TryParse(null, out _));
        Assert.Equal("counting, marketing", PurposeNames.Names(Purposes.Marketing | Purposes.Counting));
    }
}
