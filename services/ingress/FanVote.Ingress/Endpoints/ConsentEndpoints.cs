using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FanVote.Ingress;

/// <summary>
/// Consent and age: the terms anyone may read; a fan's own record, changes to it, and a guardian's consent for a child
/// (signed-in fans, their own account only: the account is the token's); consent rates for operators (operator key).
/// A change answers with a new session token that carries it; the fan's other sessions take it at their next refresh.
/// </summary>
public static class ConsentEndpoints
{
    public sealed record Terms(string Region, AgeThresholds Ages, IReadOnlyList<TermsPurpose> Purposes);

    public sealed record TermsPurpose(string Purpose, string Version, bool NeededToVote, string Basis, string Description);

    public sealed record ConsentChange(IReadOnlyList<ConsentChoiceBody>? Purposes);

    public sealed record MyPurpose(string Purpose, bool Granted, string Version, DateTimeOffset At, bool CurrentVersion, bool InEffect);

    public sealed record MyGuardian(string State, DateTimeOffset? At);

    public sealed record MyConsent(IReadOnlyList<MyPurpose> Purposes, string AgeBand, int? BirthYear, MyGuardian Guardian, IReadOnlyList<Core.ConsentChange> History);

    public sealed record ConsentUpdated(string Token, DateTimeOffset ExpiresAt, MyConsent Consent);

    public sealed record GuardianRequest(string? Phone, string? Email);

    public sealed record GuardianVerify(string? Phone, string? Email, string? Code);

    public sealed record PurposeRate(string Purpose, string Version, long Granted, double Rate);

    public sealed record ConsentRates(string Region, int Days, long Accounts, IReadOnlyList<PurposeRate> Purposes, IReadOnlyDictionary<string, long> AgeBands);

    public static WebApplication MapConsentEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var limit = new RequestSizeLimitAttribute(IngressOptions.MaxSmallBody);
        app.MapGet("/v1/privacy/terms", (ConsentDesk desk) => TypedResults.Ok(TermsOf(desk.Policy))).AllowAnonymous()
            .WithTags("Privacy").WithSummary("What FanVote uses your data for, each purpose's version, and the region's age thresholds")
            .WithDescription("Show these before sign-in; send back the versions you showed with each choice.");
        app.MapGet("/v1/me/consent", GetAsync).RequireFan().RefuseErased()
            .WithTags("Privacy").WithSummary("Your consent: each purpose given or withdrawn, when, under which version, and its history");
        app.MapPut("/v1/me/consent", PutAsync).RequireFan().RefuseErased().WithMetadata(limit)
            .WithTags("Privacy").WithSummary("Give or withdraw purposes")
            .WithDescription("Body: {\"purposes\":[{\"purpose\":\"rewards\",\"granted\":true,\"version\":\"...\"}]}. Answers with a new session token that carries the change; withdrawing is always allowed.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapPost("/v1/me/guardian", RequestGuardianAsync).RequireFan().RefuseErased().WithMetadata(limit)
            .WithTags("Privacy").WithSummary("Ask a parent or guardian to consent (fans under the age of digital consent)")
            .WithDescription("Sends a one-time passcode to the guardian's phone or e-mail; the guardian gives it to the fan, who sends it to /v1/me/guardian/verify.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests);
        app.MapPost("/v1/me/guardian/verify", VerifyGuardianAsync).RequireFan().RefuseErased().WithMetadata(limit)
            .WithTags("Privacy").WithSummary("Record the guardian's consent with their passcode")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests);
        app.MapGet("/v1/consent", RatesAsync).RequireOperator()
            .WithTags("Privacy").WithSummary("Consent rates per purpose (operators)")
            .WithDescription("Over the last `days` (1-40, default 7): accounts that signed in or changed their consent, how many of them had each purpose in effect (its current version), and how many were in each age band. Estimates (HyperLogLog), within about 1 %.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static Terms TermsOf(PrivacyPolicy policy) =>
        new(policy.Region, policy.Ages, [.. policy.AllTerms.Select(t => new TermsPurpose(t.Name, t.Version, t.NeededToVote, t.Basis, t.Description))]);

    private static async Task<Ok<MyConsent>> GetAsync(HttpContext ctx, ConsentDesk desk, RedisConsent store, TimeProvider time) =>
        TypedResults.Ok(await MineAsync(ctx.Fan(), desk.Policy, store, time.GetUtcNow()));

    private static async Task<Results<Ok<ConsentUpdated>, ProblemHttpResult>> PutAsync(ConsentChange? body, HttpContext ctx, ConsentDesk desk, RedisConsent store, SessionTokens tokens, TimeProvider time)
    {
        if (body?.Purposes is not { Count: > 0 } choices)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", "Send {\"purposes\":[{\"purpose\":\"...\",\"granted\":true|false,\"version\":\"...\"}]} with at least one choice.");
        }

        var (parsed, invalid) = desk.Parse(choices);
        if (invalid is not null)
        {
            return invalid;
        }

        var fan = ctx.Fan();
        var outcome = await desk.ApplyAsync(fan.AccountId, fan.Kind, parsed, birthYear: null, "fan");
        if (outcome.Problem is { } problem)
        {
            return problem;
        }

        return await UpdatedAsync(fan, outcome.Standing, desk, store, tokens, time);
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> RequestGuardianAsync(GuardianRequest? body, HttpContext ctx, ConsentDesk desk, RedisConsent store,
        RedisAccounts accounts, IOtpNotifier notifier, TimeProvider time, CancellationToken ct)
    {
        var fan = ctx.Fan();
        var record = await store.ReadAsync(fan.AccountId);
        var age = record.AgeFor(fan.Kind, desk.Policy, time.GetUtcNow());
        if (age is not (AgeBand.Child or AgeBand.Minor))
        {
            return Problems.Of(StatusCodes.Status409Conflict, "No guardian needed", age == AgeBand.Adult
                ? "You are an adult here: no guardian's consent is needed."
                : "Your age is not known: sign in with a one-time passcode and give your birth year first.");
        }

        if (record.Guardian == GuardianState.Granted)
        {
            // Asking again must not set the state back to "requested" (that would take rewards away until a new passcode).
            return Problems.Of(StatusCodes.Status409Conflict, "Guardian consented already", "A parent or guardian has consented for this account already.");
        }

        if (SessionEndpoints.Contact(body?.Phone, body?.Email) is not { } contact)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", "Send the guardian's \"phone\" (international format) or \"email\".");
        }

        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "";
        if (await accounts.OtpRequestAsync(contact, ip, IpPrefix.Of(ip)) is { } limited)
        {
            return SessionEndpoints.TooMany(ctx, limited, "Use the passcode already sent, or try again later.");
        }

        var (code, wait) = await accounts.IssueOtpAsync(GuardianIdentity(fan.AccountId, contact));
        if (code is null)
        {
            return SessionEndpoints.TooMany(ctx, new SignInLimited("A passcode was sent to this guardian recently", wait), "Use it, or ask for a new one later.");
        }

        await notifier.SendAsync(contact, code, OtpPurpose.GuardianConsent, ct);
        await store.ApplyAsync(fan.AccountId, "fan", [], time.GetUtcNow(), guardian: GuardianState.Requested, guardianContactHash: accounts.Pseudonym(contact));
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<Ok<ConsentUpdated>, ProblemHttpResult>> VerifyGuardianAsync(GuardianVerify? body, HttpContext ctx, ConsentDesk desk, RedisConsent store,
        RedisAccounts accounts, SessionTokens tokens, TimeProvider time)
    {
        var fan = ctx.Fan();
        if (SessionEndpoints.Contact(body?.Phone, body?.Email) is not { } contact || body!.Code is not { Length: > 0 and <= 16 } code || !code.Trim().All(char.IsAsciiDigit))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", "Send the guardian's \"phone\" or \"email\" the passcode went to, and the passcode as \"code\".");
        }

        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "";
        if (await accounts.OtpVerifyAsync(ip, IpPrefix.Of(ip)) is { } limited)
        {
            return SessionEndpoints.TooMany(ctx, limited, "Wait before trying another passcode.");
        }

        if ((await store.ReadAsync(fan.AccountId)).GuardianContactHash != accounts.Pseudonym(contact))
        {
            return Problems.Of(StatusCodes.Status409Conflict, "No guardian asked", "No passcode was sent to this guardian for your account: ask with POST /v1/me/guardian first.");
        }

        var check = await accounts.CheckOtpAsync(GuardianIdentity(fan.AccountId, contact), code.Trim());
        if (check != OtpCheck.Valid)
        {
            return SessionEndpoints.PasscodeProblem(check);
        }

        await store.ApplyAsync(fan.AccountId, "guardian", [], time.GetUtcNow(), guardian: GuardianState.Granted, guardianContactHash: accounts.Pseudonym(contact));
        return await UpdatedAsync(fan, await desk.StandingAsync(fan.AccountId, fan.Kind), desk, store, tokens, time);
    }

    private static async Task<Results<Ok<ConsentRates>, ProblemHttpResult>> RatesAsync(int? days, ConsentDesk desk, RedisConsent store, TimeProvider time)
    {
        if (days is < 1 or > RedisConsent.DaysKept)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", $"\"days\" is 1 to {RedisConsent.DaysKept} (rates are kept that long); leave it out for 7.");
        }

        var counts = await store.CountsAsync(time.GetUtcNow(), days ?? 7);
        var rates = desk.Policy.AllTerms.Select(t => new PurposeRate(t.Name, t.Version, counts.Granted[t.Purpose],
            counts.Accounts == 0 ? 0 : Math.Round((double)counts.Granted[t.Purpose] / counts.Accounts, 4))).ToList();
        return TypedResults.Ok(new ConsentRates(desk.Policy.Region, counts.Days, counts.Accounts, rates,
            counts.Ages.ToDictionary(a => PurposeNames.Name(a.Key), a => a.Value)));
    }

    private static async Task<Ok<ConsentUpdated>> UpdatedAsync(SessionClaims fan, FanConsent standing, ConsentDesk desk, RedisConsent store, SessionTokens tokens, TimeProvider time)
    {
        // The same session (its start kept), now carrying the change.
        var (token, expires) = tokens.IssueWithExpiry(fan.AccountId, fan.DeviceId, fan.Kind, fan.AccountCreatedAt, standing, fan.SessionStartedAt);
        return TypedResults.Ok(new ConsentUpdated(token, expires, await MineAsync(fan, desk.Policy, store, time.GetUtcNow())));
    }

    private static async Task<MyConsent> MineAsync(SessionClaims fan, PrivacyPolicy policy, RedisConsent store, DateTimeOffset now)
    {
        var record = await store.ReadAsync(fan.AccountId);
        var standing = record.Standing(fan.Kind, policy, now);
        var purposes = record.Choices.OrderBy(c => c.Purpose).Select(c => new MyPurpose(PurposeNames.Name(c.Purpose), c.Granted, c.Version,
            record.ChosenAt.GetValueOrDefault(c.Purpose), c.Version == policy.TermsOf(c.Purpose).Version, standing.Has(c.Purpose))).ToList();
        return new MyConsent(purposes, PurposeNames.Name(standing.Age), fan.Kind == SessionKind.Guest ? null : record.BirthYear,
            new MyGuardian(record.Guardian.ToString().ToLowerInvariant(), record.GuardianAt), await store.HistoryAsync(fan.AccountId));
    }

    /// <summary>The passcode's key for a guardian asked by one account: apart from sign-in passcodes, and from other children's.</summary>
    private static string GuardianIdentity(string accountId, string contact) => $"guardian\n{accountId}\n{contact}";
}
