using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FanVote.Ingress;

/// <summary>Guest and one-time-passcode sign-in; both end in a signed token checked locally on every vote.</summary>
public static class SessionEndpoints
{
    public sealed record GuestRequest(string? DeviceId);

    public sealed record OtpRequest(string? Phone, string? Email);

    public sealed record OtpVerifyRequest(string? Phone, string? Email, string? Code, string? DeviceId);

    public sealed record TokenResponse(string Token);

    public static WebApplication MapSessionEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/v1/sessions/guest", GuestAsync);
        app.MapPost("/v1/sessions/otp", RequestOtpAsync);
        app.MapPost("/v1/sessions/otp/verify", VerifyOtpAsync);
        return app;
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> GuestAsync(GuestRequest? body, IngressKeys keys, RedisAccounts accounts)
    {
        if (DeviceProblem(body?.DeviceId) is { } problem)
        {
            return problem;
        }

        var account = keys.Accounts.ForGuest(body!.DeviceId!);
        var created = await accounts.CreatedAtAsync(account);
        return TypedResults.Ok(new TokenResponse(keys.Tokens.Issue(account, body.DeviceId!, SessionKind.Guest, created)));
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> RequestOtpAsync(OtpRequest? body, RedisAccounts accounts, IOtpNotifier notifier, CancellationToken ct)
    {
        if (Contact(body?.Phone, body?.Email) is not { } contact)
        {
            return Bad("Send either \"phone\" (international format, e.g. +82 10 1234 5678) or \"email\".");
        }

        var code = await accounts.IssueOtpAsync(contact);
        if (code is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Passcode already sent",
                detail: $"A passcode was sent less than {RedisAccounts.OtpResendAfter.TotalSeconds:0} seconds ago. Use it, or wait before asking for a new one.");
        }

        await notifier.SendAsync(contact, code, ct);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> VerifyOtpAsync(OtpVerifyRequest? body, IngressKeys keys, RedisAccounts accounts)
    {
        if (Contact(body?.Phone, body?.Email) is not { } contact)
        {
            return Bad("Send the same \"phone\" or \"email\" the passcode was sent to.");
        }

        if (string.IsNullOrWhiteSpace(body!.Code))
        {
            return Bad("Send the 6-digit passcode as \"code\".");
        }

        if (DeviceProblem(body.DeviceId) is { } problem)
        {
            return problem;
        }

        switch (await accounts.CheckOtpAsync(contact, body.Code.Trim()))
        {
            case OtpCheck.Valid:
                var account = keys.Accounts.ForContact(contact);
                var created = await accounts.CreatedAtAsync(account);
                return TypedResults.Ok(new TokenResponse(keys.Tokens.Issue(account, body.DeviceId!, SessionKind.Otp, created)));
            case OtpCheck.Wrong:
                return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Wrong passcode", detail: "That passcode is not right. Check it and try again.");
            case OtpCheck.TooManyAttempts:
                return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many attempts", detail: "Too many wrong passcodes. Ask for a new one.");
            default:
                return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Passcode expired", detail: "This passcode has expired or was never sent. Ask for a new one.");
        }
    }

    private static string? Contact(string? phone, string? email) =>
        !string.IsNullOrWhiteSpace(email) && email.Contains('@', StringComparison.Ordinal) && email.Length <= 254 ? AccountIds.NormalizeContact(email)
        : !string.IsNullOrWhiteSpace(phone) && AccountIds.NormalizeContact(phone) is { Length: >= 8 and <= 16 } p && p.StartsWith('+') ? p
        : null;

    private static ProblemHttpResult? DeviceProblem(string? deviceId) =>
        string.IsNullOrWhiteSpace(deviceId) || deviceId.Length > 128
            ? Bad("Send \"deviceId\": a stable identifier of this device or app install, at most 128 characters.")
            : null;

    private static ProblemHttpResult Bad(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid request", detail: detail);
}
