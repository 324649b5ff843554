using FanVote.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanVote.ServiceDefaults.Auth;

/// <summary>
/// Who may call what, the same way in every FanVote host. Three callers, one authentication scheme each:
/// <list type="bullet">
/// <item><b>the Dapr sidecar</b> (<see cref="AppTokenScheme"/>): subscriptions, actor and workflow callbacks,
/// <c>/dapr/subscribe</c>, <c>/dapr/config</c>, <c>/metrics</c>. It sends the app API token (daprd's
/// <c>APP_API_TOKEN</c>, header <c>dapr-api-token</c>). This is the <b>fallback</b>: an endpoint that says nothing about
/// its callers is internal, so a route added without thought is closed, never open.</item>
/// <item><b>fans</b> (<see cref="FanPolicy"/>): a session token ingress signed, <c>Authorization: Bearer</c>.</item>
/// <item><b>operators</b> (<see cref="OperatorPolicy"/>): the operator key, header <c>X-Operator-Key</c>.</item>
/// </list>
/// Public endpoints (sign-in, results, health) say so with <c>AllowAnonymous()</c>.
/// </summary>
public static class FanVoteAuth
{
    public const string AppTokenScheme = "DaprAppToken";
    public const string FanScheme = "FanSession";
    public const string OperatorScheme = "OperatorKey";
    public const string FanPolicy = "fan";
    public const string OperatorPolicy = "operator";

    /// <summary>daprd's header for both tokens.</summary>
    public const string TokenHeader = "dapr-api-token";

    /// <summary>The app API token setting (daprd's name).</summary>
    public const string AppTokenSetting = "APP_API_TOKEN";

    /// <summary>Shortest app API token accepted.</summary>
    public const int MinimumTokenLength = 16;

    internal static void AddAppTokenAuth(this WebApplicationBuilder builder)
    {
        var token = builder.Configuration[AppTokenSetting];
        if (string.IsNullOrWhiteSpace(token) || token.Trim().Length < MinimumTokenLength)
        {
            throw new KeyConfigurationException(
                $"{AppTokenSetting} is not set (or shorter than {MinimumTokenLength} characters). Every FanVote app accepts calls from its Dapr sidecar only with this token, " +
                "and the sidecar must be given the same value (daprd reads APP_API_TOKEN; on Kubernetes the dapr.io/app-token-secret annotation). ./fanvote up and the tests generate one.");
        }

        builder.Services.AddSingleton(new AppToken(token.Trim()));
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, NotFoundForUnknownRoutes>();
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, AppTokenHandler>(AppTokenScheme, null);
        builder.Services.AddAuthorization(o =>
        {
            // Fail closed: whatever is not marked public or for fans/operators is for the sidecar only.
            o.FallbackPolicy = new AuthorizationPolicyBuilder(AppTokenScheme).RequireAuthenticatedUser().Build();
            o.AddPolicy(FanPolicy, p => p.AddAuthenticationSchemes(FanScheme).RequireAuthenticatedUser());
            o.AddPolicy(OperatorPolicy, p => p.AddAuthenticationSchemes(OperatorScheme).RequireAuthenticatedUser());
        });
    }

    /// <summary>
    /// Fans' session tokens, checked locally with the keys in FANVOTE_TOKEN_KEYS (ingress signs with the first; every
    /// service that serves fans verifies with all). Registers <see cref="SessionTokens"/> and the <see cref="FanPolicy"/> scheme.
    /// </summary>
    public static WebApplicationBuilder AddFanSessions(this WebApplicationBuilder builder, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(sp => new SessionTokens(
            SessionKeyRing.Load(builder.Configuration[SessionKeyRing.Setting], sp.GetRequiredService<KeySet>()),
            lifetime ?? TimeSpan.FromHours(1),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, FanSessionHandler>(FanScheme, null);
        return builder;
    }

    /// <summary>
    /// The operators' keys for the <see cref="OperatorPolicy"/>: FANVOTE_OPERATOR_KEY (16+ characters, the operator named
    /// "operator") and/or FANVOTE_OPERATOR_KEYS ("name=key;name=key", one key per person, so the action log can say who
    /// did what). At least one key; names and keys distinct.
    /// </summary>
    public static WebApplicationBuilder AddOperatorKey(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(OperatorKey.Parse(builder.Configuration[OperatorKeyHandler.Setting], builder.Configuration[OperatorKeyHandler.NamedSetting]));
        builder.Services.AddSingleton<OperatorKeyThrottle>();
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, OperatorKeyHandler>(OperatorScheme, null);
        return builder;
    }

    /// <summary>The operator who made this request (the name their key is configured under); throws when the endpoint is not for operators.</summary>
    public static string OperatorName(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.User.IsInRole("operator") && context.User.Identity?.Name is { Length: > 0 } name
            ? name
            : throw new InvalidOperationException("this endpoint does not require an operator: add RequireOperator()");
    }

    /// <summary>Where the request came from, for the action log: the connection's address (never a forwarding header, which a caller writes).</summary>
    public static string ClientAddress(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Connection.RemoteIpAddress is { } ip ? (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString() : "unknown";
    }

    /// <summary>The signed-in fan of this request (set by the <see cref="FanPolicy"/>); throws when the endpoint is not for fans.</summary>
    public static SessionClaims Fan(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<SessionClaims>() ?? throw new InvalidOperationException("this endpoint does not require a fan's session: add RequireAuthorization(FanVoteAuth.FanPolicy)");
    }

    /// <summary>For fans: a valid session token is required (401 problem+json saying why otherwise; so the OpenAPI document says).</summary>
    public static TBuilder RequireFan<TBuilder>(this TBuilder endpoint)
        where TBuilder : IEndpointConventionBuilder => endpoint.RequireAuthorization(FanPolicy).WithMetadata(Problem(StatusCodes.Status401Unauthorized));

    /// <summary>
    /// For fans who have given <paramref name="needed"/>: a valid session token whose consent (see
    /// <see cref="FanConsent"/>) includes every purpose in it, else 403 problem+json naming the missing purposes (in
    /// the detail and as "purposes") and how to give them. <paramref name="feature"/> names what the route does ("Voting").
    /// </summary>
    public static TBuilder RequireFan<TBuilder>(this TBuilder endpoint, Purposes needed, string feature)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(feature);
        endpoint.RequireFan().WithMetadata(Problem(StatusCodes.Status403Forbidden));
        return endpoint.AddEndpointFilter(async (invocation, next) =>
        {
            var missing = needed & ~invocation.HttpContext.Fan().Consent.Granted;
            return missing == Purposes.None ? await next(invocation) : ConsentNeeded(feature, missing);
        });
    }

    /// <summary>The 403 of a fan who has not given what <paramref name="feature"/> needs.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult ConsentNeeded(string feature, Purposes missing) =>
        Problems.Of(StatusCodes.Status403Forbidden, "Consent needed",
            $"{feature} needs your consent to: {PurposeNames.Names(missing)}. Read GET /v1/privacy/terms and give it with PUT /v1/me/consent (or when you sign in).",
            new Dictionary<string, object?> { ["purposes"] = PurposeNames.All.Where(p => (missing & p) != 0).Select(PurposeNames.Name).ToArray() });

    /// <summary>For operators: the operator key is required (401 without it, 429 after repeated wrong keys from one address).</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder endpoint)
        where TBuilder : IEndpointConventionBuilder => endpoint.RequireAuthorization(OperatorPolicy)
            .WithMetadata(Problem(StatusCodes.Status401Unauthorized), Problem(StatusCodes.Status429TooManyRequests));

    private static ProducesResponseTypeMetadata Problem(int status) => new(status, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]);

    /// <summary>The keys of this process: development keys allowed only in the Development environment.</summary>
    internal static void AddKeySet(this WebApplicationBuilder builder) =>
        builder.Services.AddSingleton(sp =>
        {
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("FanVote.Keys");
            return new KeySet(allowDevelopmentKeys: builder.Environment.IsDevelopment()) { DevelopmentKeyUsed = name => ServiceLog.DevelopmentKey(log, name) };
        });

    /// <summary>Reads one symmetric key of this process through its <see cref="KeySet"/>.</summary>
    public static byte[] Key(this IServiceProvider services, IConfiguration config, string setting, string purpose)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(config);
        return services.GetRequiredService<KeySet>().Symmetric(setting, config[setting], purpose);
    }
}

/// <summary>The app API token this app expects from its sidecar (a class, not a record, so that ToString never prints it).</summary>
public sealed class AppToken(string value)
{
    public string Value { get; } = value;

    /// <summary>SHA-256 of the token, what callers' tokens are compared with (fixed length, so the length does not leak).</summary>
    internal byte[] Digest { get; } = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value));
}

/// <summary>The operators' keys, by operator name (a class, not a record, so that ToString never prints them).</summary>
public sealed partial class OperatorKey
{
    /// <summary>The name of the operator whose key is FANVOTE_OPERATOR_KEY.</summary>
    public const string DefaultName = "operator";

    public const int MinimumLength = 16;

    public OperatorKey(IReadOnlyList<(string Name, string Value)> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new KeyConfigurationException($"Set {OperatorKeyHandler.Setting} (16 or more random characters) or {OperatorKeyHandler.NamedSetting} (name=key;name=key): operators send their key as X-Operator-Key. ./fanvote up generates one.");
        }

        foreach (var (name, value) in keys)
        {
            if (!NamePattern().IsMatch(name))
            {
                throw new KeyConfigurationException($"{OperatorKeyHandler.NamedSetting}: '{name}' is not an operator name (1-64 of a-z, 0-9, '.', '_', '-')");
            }

            if (string.IsNullOrWhiteSpace(value) || value.Trim().Length < MinimumLength)
            {
                throw new KeyConfigurationException($"the operator key of '{name}' is shorter than {MinimumLength} characters: give each operator 16 or more random characters");
            }
        }

        if (keys.Select(k => k.Name).Distinct(StringComparer.Ordinal).Count() != keys.Count || keys.Select(k => k.Value.Trim()).Distinct(StringComparer.Ordinal).Count() != keys.Count)
        {
            throw new KeyConfigurationException($"{OperatorKeyHandler.NamedSetting}: every operator needs a name and a key of their own (a name or a key repeats)");
        }

        Keys = [.. keys.Select(k => (k.Name, k.Value.Trim()))];
    }

    public OperatorKey(string value)
        : this([(DefaultName, value)])
    {
    }

    public IReadOnlyList<(string Name, string Value)> Keys { get; }

    /// <summary>The first key (FANVOTE_OPERATOR_KEY when set).</summary>
    public string Value => Keys[0].Value;

    /// <summary>From the settings: <paramref name="oneKey"/> (FANVOTE_OPERATOR_KEY) as "operator", then each name=key of <paramref name="named"/>.</summary>
    public static OperatorKey Parse(string? oneKey, string? named)
    {
        var keys = new List<(string, string)>();
        if (!string.IsNullOrWhiteSpace(oneKey))
        {
            keys.Add((DefaultName, oneKey));
        }

        foreach (var part in (named ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new KeyConfigurationException($"{OperatorKeyHandler.NamedSetting} holds name=key pairs separated by ';' (an entry has no name)");
            }

            keys.Add((part[..eq].Trim(), part[(eq + 1)..]));
        }

        return new OperatorKey(keys);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9._-]{1,64}$")]
    private static partial System.Text.RegularExpressions.Regex NamePattern();
}

/// <summary>Builds <typeparamref name="T"/> when the host starts, so a missing or bad key stops the app at once, not at its first use.</summary>
internal sealed class ResolvedOnStart<T>(T resolved) : IHostedService
    where T : class
{
    public T Resolved { get; } = resolved;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Registration helpers of the transport layer.</summary>
public static class StartupChecks
{
    /// <summary>The singleton <typeparamref name="T"/> (a holder of keys) is built at start-up: configuration mistakes fail the start, with their message.</summary>
    public static IServiceCollection ResolveOnStart<T>(this IServiceCollection services)
        where T : class => services.AddHostedService<ResolvedOnStart<T>>();
}
