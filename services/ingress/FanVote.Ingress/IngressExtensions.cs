using FanVote.Contracts;
using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using FanVote.Ingress.Publishing;
using FanVote.Ingress.Risk;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FanVote.Ingress;

public static class IngressExtensions
{
    public static WebApplicationBuilder AddIngress(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<IngressOptions>()
            .BindConfiguration("Ingress")
            .Configure<IConfiguration>((o, c) =>
            {
                o.Redis = c["FANVOTE_REDIS_HOST"] is { Length: > 0 } r ? r : o.Redis;
                o.RedisPassword = c["FANVOTE_REDIS_PASSWORD"] is { Length: > 0 } p ? p : o.RedisPassword;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var lifetime = builder.Configuration.GetValue<TimeSpan?>("Ingress:TokenLifetime") ?? new IngressOptions().TokenLifetime;
        builder.AddFanSessions(lifetime);
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<IngressOptions>>().Value;
            var cfg = ConfigurationOptions.Parse(o.Redis);
            cfg.AbortOnConnectFail = false;
            // While Redis is down a command fails at once (the fan gets 503 + Retry-After and retries with the same
            // Idempotency-Key) instead of waiting in the client's backlog for the sync timeout: at the peak, requests
            // held for seconds would pile up connections and memory in front of a store that is not there.
            cfg.BacklogPolicy = BacklogPolicy.FailFast;
            if (o.RedisPassword.Length > 0)
            {
                cfg.Password = o.RedisPassword;
            }

            return ConnectionMultiplexer.Connect(cfg);
        });
        builder.Services.AddSingleton<IngressMetrics>();
        builder.Services.AddSingleton<IngressKeys>();
        builder.Services.ResolveOnStart<IngressKeys>();
        builder.Services.ResolveOnStart<SessionTokens>();
        builder.Services.AddSingleton<WindowBook>();
        builder.Services.AddSingleton<RedisWindowStore>();
        builder.Services.AddSingleton<RedisAccounts>();
        builder.Services.AddSingleton<RedisConsent>();
        builder.Services.AddSingleton<RedisAccountDirectory>();
        builder.Services.AddSingleton<IFanDataHolder, IngressFanData>();
        builder.Services.AddSingleton(PrivacySettings.Policy(builder.Configuration));
        builder.Services.AddSingleton<ConsentDesk>();
        builder.AddOperatorKey(); // consent rates (GET /v1/consent)
        builder.Services.AddSingleton<IAdmissionStore, RedisAdmissionStore>();
        builder.Services.AddSingleton<VoteBatcher>();
        builder.Services.AddSingleton<IVotePublisher>(sp => sp.GetRequiredService<VoteBatcher>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VoteBatcher>());
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<IngressOptions>>().Value;
            var keys = sp.GetRequiredService<IngressKeys>();
            return new VoteDesk(sp.GetRequiredService<WindowBook>(), sp.GetRequiredService<VerdictCache>(), sp.GetRequiredService<IAdmissionStore>(),
                sp.GetRequiredService<IVotePublisher>(), keys.Receipts, keys.Seal, o.DeskOptions(), sp.GetRequiredService<TimeProvider>());
        });
        builder.Services.AddHostedService<WindowsStartup>();
        builder.Services.AddWarmUpStep<WarmUp.IngressWarmUp>();
        builder.Services.AddSingleton<VerdictCache>();
        builder.Services.AddSingleton<RedisVerdictStore>();
        builder.Services.AddHostedService<VerdictsStartup>();
        builder.Services.AddHttpClient();
        builder.AddOtpNotifier();
        builder.AddChallengeVerifier();
        builder.Services.AddExceptionHandler<RedisUnavailableHandler>();
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [FanVoteDefaults.ReadyTag]);
        return builder;
    }

    public static WebApplication MapIngressEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapSessionEndpoints();
        app.MapConsentEndpoints();
        app.MapVoteEndpoints();
        app.MapFanAppEndpoints();
        app.MapWindowSubscriptions();
        app.MapCountSubscriptions();
        app.MapChallengeEndpoints();
        app.MapRiskVerdictSubscriptions();
        app.MapFanDataRequests(AppIds.Ingress);
        return app;
    }

    /// <summary>
    /// Outside Development: the gateway in Ingress:OtpWebhookUrl with FANVOTE_OTP_WEBHOOK_TOKEN, or no start. In
    /// Development: the outbox file (Ingress:OtpOutbox) stands in for the gateway. The code is never logged.
    /// </summary>
    private static void AddOtpNotifier(this WebApplicationBuilder builder)
    {
        var url = builder.Configuration.GetValue<Uri?>("Ingress:OtpWebhookUrl");
        var token = builder.Configuration[WebhookOtpNotifier.TokenSetting];
        if (url is not null)
        {
            if (string.IsNullOrWhiteSpace(token))
            {
                throw new KeyConfigurationException($"Ingress:OtpWebhookUrl is set but {WebhookOtpNotifier.TokenSetting} is not: the gateway must authenticate ingress.");
            }

            builder.Services.AddSingleton<IOtpNotifier>(sp => new WebhookOtpNotifier(sp.GetRequiredService<IHttpClientFactory>().CreateClient("otp"), url, token));
            return;
        }

        if (!builder.Environment.IsDevelopment())
        {
            throw new KeyConfigurationException(
                "No passcode sender: set Ingress:OtpWebhookUrl (your SMS / e-mail gateway) and FANVOTE_OTP_WEBHOOK_TOKEN. The development outbox is refused outside Development.");
        }

        var outbox = builder.Configuration["Ingress:OtpOutbox"] is { Length: > 0 } p ? p : Path.Combine(Path.GetTempPath(), $"fanvote-otp-outbox-{Environment.UserName}");
        builder.Services.AddSingleton<IOtpNotifier>(new OutboxOtpNotifier(outbox));
    }

    /// <summary>
    /// Outside Development: the CAPTCHA provider in Ingress:CaptchaVerifyUrl with FANVOTE_CAPTCHA_SECRET, or no start.
    /// In Development: the one answer in FANVOTE_CHALLENGE_ANSWER (generated by ./fanvote up), or a CAPTCHA if configured.
    /// </summary>
    private static void AddChallengeVerifier(this WebApplicationBuilder builder)
    {
        var url = builder.Configuration.GetValue<Uri?>("Ingress:CaptchaVerifyUrl");
        var secret = builder.Configuration[SiteVerifyChallengeVerifier.SecretSetting];
        if (url is not null)
        {
            if (string.IsNullOrWhiteSpace(secret))
            {
                throw new KeyConfigurationException($"Ingress:CaptchaVerifyUrl is set but {SiteVerifyChallengeVerifier.SecretSetting} is not.");
            }

            builder.Services.AddSingleton<IChallengeVerifier>(sp => new SiteVerifyChallengeVerifier(sp.GetRequiredService<IHttpClientFactory>().CreateClient("captcha"), url, secret));
            return;
        }

        var answer = builder.Configuration[DevelopmentChallengeVerifier.AnswerSetting];
        if (!builder.Environment.IsDevelopment() || string.IsNullOrWhiteSpace(answer) || answer.Length < 8)
        {
            throw new KeyConfigurationException(builder.Environment.IsDevelopment()
                ? $"Set {DevelopmentChallengeVerifier.AnswerSetting} (8+ characters; ./fanvote up generates it), or a CAPTCHA: Ingress:CaptchaVerifyUrl and {SiteVerifyChallengeVerifier.SecretSetting}."
                : $"No CAPTCHA for fraud challenges: set Ingress:CaptchaVerifyUrl (the provider's siteverify URL) and {SiteVerifyChallengeVerifier.SecretSetting}. The development verifier is refused outside Development.");
        }

        builder.Services.AddSingleton<IChallengeVerifier>(new DevelopmentChallengeVerifier(answer));
    }
}

/// <summary>Ready only when ingress's Redis answers (admission needs it on every vote).</summary>
public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            return HealthCheckResult.Unhealthy("ingress's Redis (admission, idempotency) is not reachable", e);
        }
    }
}
