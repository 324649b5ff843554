using System.Text;

namespace FanVote.Security.Tests;

public sealed class SessionTokensTests
{
    private static readonly byte[] KeyA = Encoding.UTF8.GetBytes("key-a-0123456789-0123456789-0123456789");
    private static readonly byte[] KeyB = Encoding.UTF8.GetBytes("key-b-0123456789-0123456789-0123456789");
    private readonly FakeTime _time = new(new DateTimeOffset(2026, 11, 22, 20, 0, 0, TimeSpan.Zero));

    private SessionTokens Tokens(params (string, byte[])[] keys) => new(keys, TimeSpan.FromHours(12), _time);

    [Fact]
    public void IssueThenValidate_ReturnsTheClaims()
    {
        var tokens = Tokens(("a", KeyA));
        var created = _time.Now.AddDays(-10);

        var token = tokens.Issue("acc-1", "dev-1", SessionKind.Otp, created, FanConsent.Voting);

        Assert.Equal(TokenError.None, tokens.Validate(token, out var c));
        Assert.Equal("acc-1", c!.AccountId);
        Assert.Equal("dev-1", c.DeviceId);
        Assert.Equal(SessionKind.Otp, c.Kind);
        Assert.Equal(created.ToUnixTimeSeconds(), c.AccountCreatedAt.ToUnixTimeSeconds());
        Assert.Equal(_time.Now.AddHours(12).ToUnixTimeSeconds(), c.ExpiresAt.ToUnixTimeSeconds());
    }

    [Fact]
    public void Consent_TravelsInTheToken_AndAnOldTokenWithoutItHasNone()
    {
        var tokens = Tokens(("a", KeyA));
        var given = new FanConsent(Purposes.Counting | Purposes.Rewards, AgeBand.Minor);
        Assert.Equal(TokenError.None, tokens.Validate(tokens.Issue("acc-1", "dev-1", SessionKind.Otp, _time.Now, given), out var c));
        Assert.Equal(given, c!.Consent);
        Assert.False(c.Consent.Has(PurposeNames.NeededToVote));

        // Signed like a token of before consent existed (no "cns", no "age"): valid, with nothing given.
        Assert.Equal(TokenError.None, tokens.Validate(Signed("""{"sub":"acc-1","dev":"dev-1","kind":"guest","iat":PLACE,"exp":PLACE2,"acr":0}"""), out var old));
        Assert.Equal(FanConsent.None, old!.Consent);

        // Bits no purpose has, or an age band that does not exist: not a token ingress made.
        Assert.Equal(TokenError.Malformed, tokens.Validate(Signed("""{"sub":"acc-1","dev":"dev-1","kind":"guest","iat":PLACE,"exp":PLACE2,"acr":0,"cns":16}"""), out _));
        Assert.Equal(TokenError.Malformed, tokens.Validate(Signed("""{"sub":"acc-1","dev":"dev-1","kind":"guest","iat":PLACE,"exp":PLACE2,"acr":0,"age":4}"""), out _));

        string Signed(string json)
        {
            json = json.Replace("PLACE2", _time.Now.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("PLACE", _time.Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var signed = "v1.a." + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
            return signed + "." + System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.HMACSHA256.HashData(KeyA, Encoding.ASCII.GetBytes(signed)));
        }
    }

    [Fact]
    public void Validate_AfterExpiryPlusSkew_IsExpired()
    {
        var tokens = Tokens(("a", KeyA));
        var token = tokens.Issue("acc-1", "dev-1", SessionKind.Guest, _time.Now, FanConsent.Voting);

        _time.Now = _time.Now.AddHours(12).AddSeconds(4);
        Assert.Equal(TokenError.None, tokens.Validate(token, out _));
        _time.Now = _time.Now.AddSeconds(2);
        Assert.Equal(TokenError.Expired, tokens.Validate(token, out var c));
        Assert.Null(c);
    }

    [Fact]
    public void Validate_ForgedPayload_IsBadSignature()
    {
        var tokens = Tokens(("a", KeyA));
        var parts = tokens.Issue("acc-1", "dev-1", SessionKind.Guest, _time.Now, FanConsent.Voting).Split('.');
        var other = tokens.Issue("acc-2", "dev-1", SessionKind.Guest, _time.Now, FanConsent.Voting).Split('.');

        var forged = string.Join('.', parts[0], parts[1], other[2], parts[3]);

        Assert.Equal(TokenError.BadSignature, tokens.Validate(forged, out _));
    }

    [Fact]
    public void Validate_SignedWithAnotherServersKey_IsRefused()
    {
        var token = Tokens(("a", KeyB)).Issue("acc-1", "dev-1", SessionKind.Guest, _time.Now, FanConsent.Voting);

        Assert.Equal(TokenError.BadSignature, Tokens(("a", KeyA)).Validate(token, out _));
        Assert.Equal(TokenError.UnknownKey, Tokens(("z", KeyA)).Validate(token, out _));
    }

    [Fact]
    public void Validate_AfterKeyRotation_OldTokensStillValid()
    {
        var old = Tokens(("a", KeyA)).Issue("acc-1", "dev-1", SessionKind.Guest, _time.Now, FanConsent.Voting);
        var rotated = Tokens(("b", KeyB), ("a", KeyA));

        Assert.Equal(TokenError.None, rotated.Validate(old, out _));
        Assert.StartsWith("v1.b.", rotated.Issue("acc-1", "dev-1", SessionKind.Guest, _time.Now, FanConsent.Voting), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, TokenError.Missing)]
    [InlineData("", TokenError.Missing)]
    [InlineData("garbage", TokenError.Malformed)]
    [InlineData("v2.a.b.c", TokenError.Malformed)]
    [InlineData("v1.a.!!!.???", TokenError.Malformed)]
    public void Validate_Junk_IsMissingOrMalformed(string? token, TokenError expected) =>
        Assert.Equal(expected, Tokens(("a", KeyA)).Validate(token, out _));

    [Fact]
    public void Validate_TokenIssuedInTheFuture_IsMalformed()
    {
        var tokens = Tokens(("a", KeyA));
        _time.Now = _time.Now.AddMinutes(10);
        var fromTheFuture = tokens.Issue("acc-1", "dev-1", SessionKind.Guest, _time.Now, FanConsent.Voting);
        _time.Now = _time.Now.AddMinutes(-10);

        Assert.Equal(TokenError.Malformed, tokens.Validate(fromTheFuture, out var c));
        Assert.Null(c);
    }

    [Fact]
    public void IssueWithExpiry_SaysWhenTheTokenLapses()
    {
        var (token, expires) = Tokens(("a", KeyA)).IssueWithExpiry("acc-1", "dev-1", SessionKind.Guest, _time.Now, FanConsent.Voting);

        Assert.Equal(_time.Now.AddHours(12).ToUnixTimeSeconds(), expires.ToUnixTimeSeconds());
        Assert.Equal(TokenError.None, Tokens(("a", KeyA)).Validate(token, out _));
    }

    [Fact]
    public void SessionStart_IsTheSignInTime_AndARenewedTokenKeepsIt()
    {
        var tokens = Tokens(("a", KeyA));
        var signedIn = tokens.Issue("acc-1", "dev-1", SessionKind.Otp, _time.Now.AddDays(-100), FanConsent.Voting);
        Assert.Equal(TokenError.None, tokens.Validate(signedIn, out var first));
        Assert.Equal(_time.Now.ToUnixTimeSeconds(), first!.SessionStartedAt.ToUnixTimeSeconds());

        _time.Now = _time.Now.AddHours(11);
        var (renewed, _) = tokens.IssueWithExpiry("acc-1", "dev-1", SessionKind.Otp, first.AccountCreatedAt, first.Consent, first.SessionStartedAt);

        Assert.Equal(TokenError.None, tokens.Validate(renewed, out var second));
        Assert.Equal(first.SessionStartedAt, second!.SessionStartedAt);
        Assert.Equal(_time.Now.ToUnixTimeSeconds(), second.IssuedAt.ToUnixTimeSeconds());
    }

    [Fact]
    public void SessionStart_OfATokenMadeBeforeItWasCarried_IsWhenTheTokenWasIssued()
    {
        // A token as issued before "sst" existed: signed the same way, without the field.
        var iat = _time.Now.AddMinutes(-5).ToUnixTimeSeconds();
        var payload = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $$"""{"sub":"acc-1","dev":"dev-1","kind":"guest","iat":{{iat}},"exp":{{iat + 3600}},"acr":{{iat}}}"""));
        var signed = $"v1.a.{payload}";
        var token = $"{signed}.{System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.HMACSHA256.HashData(KeyA, Encoding.ASCII.GetBytes(signed)))}";

        Assert.Equal(TokenError.None, Tokens(("a", KeyA)).Validate(token, out var c));
        Assert.Equal(iat, c!.SessionStartedAt.ToUnixTimeSeconds());
    }

    [Fact]
    public void Constructor_ShortKey_IsRejected() =>
        Assert.Throws<ArgumentException>(() => Tokens(("a", new byte[8])));

    [Theory]
    [InlineData(TokenError.Expired, "expired")]
    [InlineData(TokenError.Missing, "Sign in")]
    public void Explain_SaysWhatToDo(TokenError e, string phrase) =>
        Assert.Contains(phrase, SessionTokens.Explain(e), StringComparison.Ordinal);
}
