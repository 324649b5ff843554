using System.Globalization;
using FanVote.Contracts;
using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace FanVote.Ingress;

/// <summary>
/// Guest and one-time-passcode sign-in (public, limited per address and network, passcodes also per contact), and the
/// renewal of a valid session; all end in a signed token that is the fan's whole identity, checked locally on every
/// vote. Bodies are at most 4 KB; ids and contacts with control characters are refused.
/// </summary>
public static class SessionEndpoints
{
    /// <summary><paramref name="Consent"/>: purposes given or withdrawn with this sign-in (see GET /v1/privacy/terms); none keeps what the account has.</summary>
    public sealed record GuestRequest(string? DeviceId, List<ConsentChoiceBody>? Consent = null);

    public sealed record OtpRequest(string? Phone, string? Email);

    /// <summary><paramref name="BirthYear"/>: asked at sign-up (given once per account); without it the fan's age is unknown.</summary>
    public sealed record OtpVerifyRequest(string? Phone, string? Email, string? Code, string? DeviceId, List<ConsentChoiceBody>? Consent = null, int? BirthYear = null);

    public sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt);

    public static WebApplication MapSessionEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var limit = new RequestSizeLimitAttribute(IngressOptions.MaxSmallBody);
        app.MapPost("/v1/sessions/guest", GuestAsync).AllowAnonymous().WithMetadata(limit)
            .WithTags("Sign-in").WithSummary("Sign in as a guest on this device")
            .WithDescription("Creates (or finds) the guest account of this device and returns a session token. Limited per address and network. Voting needs \"counting\" and \"fraud-prevention\" given (\"consent\" here, or PUT /v1/me/consent).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapPost("/v1/sessions/otp", RequestOtpAsync).AllowAnonymous().WithMetadata(limit)
            .WithTags("Sign-in").WithSummary("Send a one-time passcode to a phone or e-mail address")
            .WithDescription("Answers 202 whether or not the contact is known. Resending is slowed down per contact, and capped per contact and per address each day.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests);
        app.MapPost("/v1/sessions/otp/verify", VerifyOtpAsync).AllowAnonymous().WithMetadata(limit)
            .WithTags("Sign-in").WithSummary("Sign in with the passcode")
            .WithDescription("Give \"birthYear\" at sign-up (once per account) and \"consent\" as for guests: under the region's age thresholds some purposes are refused (403).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests);
        app.MapPost("/v1/sessions/refresh", RefreshAsync).RequireFan().RefuseErased().WithMetadata(limit)
            .WithTags("Sign-in").WithSummary("Renew a valid session token")
            .WithDescription("Refused (401) once the sign-in is older than the maximum session age (30 days by default): sign in again.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return app;
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> GuestAsync(GuestRequest? body, HttpContext ctx, SessionTokens tokens, IngressKeys keys, RedisAccounts accounts, RedisAccountDirectory directory, ConsentDesk consent)
    {
        if (DeviceProblem(body?.DeviceId) is { } problem)
        {
            return problem;
        }

        var (choices, consentProblem) = consent.Parse(body!.Consent);
        if (consentProblem is not null)
        {
            return consentProblem; // before the sign-in counts against the address
        }

        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "";
        if (await accounts.GuestSignInAsync(ip, IpPrefix.Of(ip)) is { } limited)
        {
            return TooMany(ctx, limited, "Wait, or sign in with a one-time passcode.");
        }

        var device = body!.DeviceId!.Trim();
        var entry = await directory.ResolveAsync(keys.Accounts.GuestEntry(device), keys.Accounts.ForGuest(device), guest: true);
        if (entry.AccountId is not { } account)
        {
            return ErasedRecently(ctx, entry, "device");
        }

        var outcome = await consent.ApplyAsync(account, SessionKind.Guest, choices, birthYear: null, "sign-in");
        if (outcome.Problem is { } refused)
        {
            return refused;
        }

        return Issue(tokens, account, device, SessionKind.Guest, await accounts.CreatedAtAsync(account), outcome.Standing);
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> RequestOtpAsync(OtpRequest? body, HttpContext ctx, RedisAccounts accounts, IOtpNotifier notifier, CancellationToken ct)
    {
        if (Contact(body?.Phone, body?.Email) is not { } contact)
        {
            return Bad("Send either \"phone\" (international format, e.g. +82 10 1234 5678) or \"email\" (at most 254 characters, no control characters).");
        }

        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "";
        if (await accounts.OtpRequestAsync(contact, ip, IpPrefix.Of(ip)) is { } limited)
        {
            return TooMany(ctx, limited, "Use the passcode you already have, or try again later.");
        }

        var (code, wait) = await accounts.IssueOtpAsync(contact);
        if (code is null)
        {
            ctx.Response.Headers.RetryAfter = Seconds(wait);
            return Problems.Of(StatusCodes.Status429TooManyRequests, "Passcode already sent",
                $"A passcode was sent recently. Use it, or ask for a new one in {Seconds(wait)} seconds.");
        }

        await notifier.SendAsync(contact, code, OtpPurpose.SignIn, ct);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> VerifyOtpAsync(OtpVerifyRequest? body, HttpContext ctx, SessionTokens tokens, IngressKeys keys, RedisAccounts accounts, RedisAccountDirectory directory, ConsentDesk consent, TimeProvider time)
    {
        if (Contact(body?.Phone, body?.Email) is not { } contact)
        {
            return Bad("Send the same \"phone\" or \"email\" the passcode was sent to.");
        }

        if (body!.Code is not { Length: > 0 and <= 16 } code || !code.Trim().All(char.IsAsciiDigit))
        {
            return Bad("Send the 6-digit passcode as \"code\".");
        }

        if (DeviceProblem(body.DeviceId) is { } problem)
        {
            return problem;
        }

        var (choices, consentProblem) = consent.Parse(body.Consent);
        if (consentProblem is not null)
        {
            return consentProblem;
        }

        if (body.BirthYear is { } year && PrivacyPolicy.BirthYearProblem(year, time.GetUtcNow()) is { } badYear)
        {
            return Bad(badYear);
        }

        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "";
        if (await accounts.OtpVerifyAsync(ip, IpPrefix.Of(ip)) is { } limited)
        {
            return TooMany(ctx, limited, "Wait before trying another passcode.");
        }

        var check = await accounts.CheckOtpAsync(contact, code.Trim());
        if (check != OtpCheck.Valid)
        {
            return PasscodeProblem(check);
        }

        // The passcode is spent: a refused consent or birth year means asking for a new one (nothing was stored).
        var entry = await directory.ResolveAsync(keys.Accounts.ContactEntry(contact), keys.Accounts.ForContact(contact), guest: false);
        if (entry.AccountId is not { } account)
        {
            return ErasedRecently(ctx, entry, "phone number or e-mail address");
        }

        var outcome = await consent.ApplyAsync(account, SessionKind.Otp, choices, body.BirthYear, "sign-in");
        if (outcome.Problem is { } refused)
        {
            return refused;
        }

        return Issue(tokens, account, body.DeviceId!.Trim(), SessionKind.Otp, await accounts.CreatedAtAsync(account), outcome.Standing);
    }

    /// <summary>409 for a device or contact whose account was erased less than <see cref="IngressOptions.SignUpAgainAfterErasure"/> ago.</summary>
    private static ProblemHttpResult ErasedRecently(HttpContext ctx, DirectoryEntry entry, string what)
    {
        ctx.Response.Headers.RetryAfter = Seconds(entry.ErasedFor);
        return Problems.Of(StatusCodes.Status409Conflict, "Account erased",
            $"The account of this {what} was erased at your request. A new one can be made with it in {Seconds(entry.ErasedFor)} seconds (so that erasing cannot give new votes in a window that is still open).");
    }

    /// <summary>Why a passcode that is not valid was refused (401 wrong or expired, 429 too many attempts).</summary>
    internal static ProblemHttpResult PasscodeProblem(OtpCheck check) => check switch
    {
        OtpCheck.Wrong => Problems.Of(StatusCodes.Status401Unauthorized, "Wrong passcode", "That passcode is not right. Check it and try again."),
        OtpCheck.TooManyAttempts => Problems.Of(StatusCodes.Status429TooManyRequests, "Too many attempts", "Too many wrong passcodes. Ask for a new one."),
        _ => Problems.Of(StatusCodes.Status401Unauthorized, "Passcode expired", "This passcode has expired or was never sent. Ask for a new one."),
    };

    /// <summary>
    /// A valid session gets a fresh token for the same account, device and session start (no sign-in needed while it is
    /// valid), until the session is <see cref="IngressOptions.MaxSessionAge"/> old: then the fan signs in again. The new
    /// token carries the account's consent as it is now (changed on another device, or terms that changed since).
    /// </summary>
    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(HttpContext ctx, SessionTokens tokens, TimeProvider time, IOptions<IngressOptions> options, ConsentDesk consent)
    {
        var fan = ctx.Fan();
        var maxAge = options.Value.MaxSessionAge;
        if (time.GetUtcNow() - fan.SessionStartedAt > maxAge)
        {
            return Problems.Of(StatusCodes.Status401Unauthorized, "Session too old",
                $"This session began more than {maxAge.TotalDays.ToString("0.##", CultureInfo.InvariantCulture)} days ago and cannot be renewed. Sign in again.");
        }

        return Issue(tokens, fan.AccountId, fan.DeviceId, fan.Kind, fan.AccountCreatedAt, await consent.StandingAsync(fan.AccountId, fan.Kind), fan.SessionStartedAt);
    }

    private static Ok<TokenResponse> Issue(SessionTokens tokens, string account, string device, SessionKind kind, DateTimeOffset created, FanConsent standing, DateTimeOffset? sessionStartedAt = null)
    {
        var (token, expires) = tokens.IssueWithExpiry(account, device, kind, created, standing, sessionStartedAt);
        return TypedResults.Ok(new TokenResponse(token, expires));
    }

    /// <summary>A normalized phone number or e-mail address, or null when neither is one.</summary>
    internal static string? Contact(string? phone, string? email)
    {
        if (!string.IsNullOrWhiteSpace(email))
        {
            return email.Contains('@', StringComparison.Ordinal) && email.Length <= 254 && !Ids.HasControlCharacters(email) && !email.Trim().Contains(' ', StringComparison.Ordinal)
                ? AccountIds.NormalizeContact(email)
                : null;
        }

        return !string.IsNullOrWhiteSpace(phone) && phone.Length <= 32 && !Ids.HasControlCharacters(phone)
            && AccountIds.NormalizeContact(phone) is { Length: >= 8 and <= 16 } p && p.StartsWith('+') ? p : null;
    }

    private static ProblemHttpResult? DeviceProblem(string? deviceId) =>
        string.IsNullOrWhiteSpace(deviceId) || deviceId.Trim().Length > 128 || Ids.HasControlCharacters(deviceId)
            ? Bad("Send \"deviceId\": a stable identifier of this device or app install, at most 128 characters, without control characters.")
            : null;

    internal static ProblemHttpResult TooMany(HttpContext ctx, SignInLimited limited, string advice)
    {
        ctx.Response.Headers.RetryAfter = Seconds(limited.RetryAfter);
        return Problems.Of(StatusCodes.Status429TooManyRequests, "Too many sign-ins", $"{limited.Reason}. {advice} Try again in {Seconds(limited.RetryAfter)} seconds.");
    }

    private static string Seconds(TimeSpan t) => Math.Max(1, Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static ProblemHttpResult Bad(string detail) => Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", detail);
}
