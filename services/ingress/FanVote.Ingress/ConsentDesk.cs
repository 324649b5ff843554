using Dapr;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FanVote.Ingress;

/// <summary>One purpose given or withdrawn in a request: <c>{"purpose":"rewards","granted":true,"version":"2026-12-01"}</c>.</summary>
public sealed record ConsentChoiceBody(string? Purpose, bool? Granted, string? Version);

/// <summary>A fan's consent as it stands after a request, or the problem that refused the request (nothing changed then).</summary>
public sealed record ConsentOutcome(FanConsent Standing, ProblemHttpResult? Problem);

/// <summary>
/// Applies the privacy rules (<see cref="PrivacyPolicy"/>) to what a fan sends at sign-in or later, stores it
/// (<see cref="RedisConsent"/>) and says what the fan's session token must carry. A choice must name the version of
/// the terms the fan was shown (409 when they changed since); a purpose the fan's age does not allow is refused (403
/// naming it); the birth year is given once, at passcode sign-in, and never by guests. Every request with choices ends
/// in a <see cref="ConsentChanged"/> for the services that act on consent (rewards), before it is answered.
/// </summary>
public sealed class ConsentDesk(RedisConsent store, PrivacyPolicy policy, DaprClient dapr, TimeProvider time)
{
    public const int MaxChoices = 8;

    public PrivacyPolicy Policy => policy;

    /// <summary>
    /// Records <paramref name="choices"/> (what <see cref="Parse"/> made of a request body) and <paramref name="birthYear"/>
    /// for the account; the standing to sign its token with.
    /// </summary>
    public async Task<ConsentOutcome> ApplyAsync(string accountId, SessionKind kind, IReadOnlyList<PurposeChoice> choices, int? birthYear, string source)
    {
        ArgumentNullException.ThrowIfNull(choices);
        var now = time.GetUtcNow();
        if (birthYear is { } year)
        {
            if (kind == SessionKind.Guest)
            {
                return Refused(Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", "Guests do not give a birth year: sign in with a one-time passcode to give it."));
            }

            if (PrivacyPolicy.BirthYearProblem(year, now) is { } bad)
            {
                return Refused(Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", bad));
            }
        }

        var record = await store.ReadAsync(accountId);
        if (birthYear is { } given && record.BirthYear is { } stored && stored != given)
        {
            return Refused(BirthYearDiffers());
        }

        var age = (record with { BirthYear = record.BirthYear ?? birthYear }).AgeFor(kind, policy, now);
        foreach (var c in choices.Where(c => c.Granted))
        {
            if (policy.RefuseGrant(c.Purpose, age, record.Guardian == GuardianState.Granted) is { } why)
            {
                return Refused(Problems.Of(StatusCodes.Status403Forbidden, "Consent not allowed", why,
                    new Dictionary<string, object?> { ["purposes"] = new[] { PurposeNames.Name(c.Purpose) } }));
            }
        }

        if (choices.Count > 0 || (birthYear is not null && record.BirthYear is null))
        {
            if (await store.ApplyAsync(accountId, source, choices, now, record.BirthYear is null ? birthYear : null) == ConsentWrite.BirthYearDiffers)
            {
                return Refused(BirthYearDiffers()); // another sign-in of the same account gave another year meanwhile
            }

            record = await store.ReadAsync(accountId);
        }

        var standing = record.Standing(kind, policy, now);
        await store.NoteActiveAsync(accountId, standing, now);
        if (choices.Count > 0 && !await TellAsync(accountId, standing, now))
        {
            // Stored, not yet passed on: the same request again changes nothing here and sends it again.
            return Refused(Problems.Of(StatusCodes.Status503ServiceUnavailable, "Consent not passed on yet",
                "Your choice is stored but could not be passed on to every service yet. Send the same request again."));
        }

        return new ConsentOutcome(standing, null);
    }

    /// <summary>Publishes the fan's standing (the whole of it, so the latest wins wherever it lands); false when the broker refused it.</summary>
    private async Task<bool> TellAsync(string accountId, FanConsent standing, DateTimeOffset now)
    {
        try
        {
            await dapr.PublishTypedAsync(Topics.ConsentEvents, EventTypes.ConsentChanged, new ConsentChanged
            {
                EventId = Guid.NewGuid(),
                OccurredAt = now,
                AccountId = accountId,
                Purposes = [.. PurposeNames.All.Where(standing.Has).Select(PurposeNames.Name)],
                AgeBand = PurposeNames.Name(standing.Age),
            }, CancellationToken.None);
            return true;
        }
        catch (DaprException)
        {
            return false;
        }
    }

    /// <summary>What the account's token carries now (a refresh: consent changed on another device takes effect here).</summary>
    public async Task<FanConsent> StandingAsync(string accountId, SessionKind kind)
    {
        var now = time.GetUtcNow();
        var standing = (await store.ReadAsync(accountId)).Standing(kind, policy, now);
        await store.NoteActiveAsync(accountId, standing, now);
        return standing;
    }

    /// <summary>The choices of a request body, or why they are not valid (400: malformed; 409: terms changed since the fan read them).</summary>
    public (List<PurposeChoice> Choices, ProblemHttpResult? Problem) Parse(IReadOnlyList<ConsentChoiceBody>? body)
    {
        var choices = new List<PurposeChoice>();
        if (body is null)
        {
            return (choices, null);
        }

        if (body.Count > MaxChoices)
        {
            return (choices, Bad($"Send at most {MaxChoices} consent choices."));
        }

        foreach (var b in body)
        {
            if (b is null || !PurposeNames.TryParse(b.Purpose, out var purpose))
            {
                return (choices, Bad($"Each consent choice needs \"purpose\": one of {string.Join(", ", PurposeNames.All.Select(PurposeNames.Name))}."));
            }

            if (b.Granted is not { } granted || string.IsNullOrWhiteSpace(b.Version) || b.Version.Length > 64)
            {
                return (choices, Bad($"The choice for \"{PurposeNames.Name(purpose)}\" needs \"granted\" (true or false) and \"version\": the version of its terms you showed (GET /v1/privacy/terms)."));
            }

            var current = policy.TermsOf(purpose).Version;
            if (b.Version.Trim() != current)
            {
                return (choices, Problems.Of(StatusCodes.Status409Conflict, "Terms changed",
                    $"The terms of \"{PurposeNames.Name(purpose)}\" are now version {current}, not {b.Version.Trim()}: show them again (GET /v1/privacy/terms) and send the new version.",
                    new Dictionary<string, object?> { ["purposes"] = new[] { PurposeNames.Name(purpose) } }));
            }

            if (choices.Any(c => c.Purpose == purpose))
            {
                return (choices, Bad($"\"{PurposeNames.Name(purpose)}\" is given more than once."));
            }

            choices.Add(new PurposeChoice(purpose, granted, current));
        }

        return (choices, null);
    }

    private static ConsentOutcome Refused(ProblemHttpResult problem) => new(FanConsent.None, problem);

    private static ProblemHttpResult BirthYearDiffers() =>
        Problems.Of(StatusCodes.Status409Conflict, "Birth year already given", "This account already has another birth year; it is given once. Contact support to correct it.");

    private static ProblemHttpResult Bad(string detail) => Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", detail);
}
