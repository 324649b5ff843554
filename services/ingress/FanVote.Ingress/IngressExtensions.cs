using FanVote.Ingress.Adapters;
using FanVote.Ingress.Core;
using FanVote.Ingress.Publishing;
using FanVote.Ingress.Risk;
using FanVote.ServiceDefaults;
using Microsoft.AspNetCore.HttpOverrides;
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
                o.TokenKeys = c["FANVOTE_TOKEN_KEYS"] is { Length: > 0 } k ? k : o.TokenKeys;
                o.ReceiptKey = c["FANVOTE_RECEIPT_KEY"] is { Length: > 0 } rk ? rk : o.ReceiptKey;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var cfg = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<IngressOptions>>().Value.Redis);
            cfg.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(cfg);
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IngressMetrics>();
        builder.Services.AddSingleton<IngressKeys>();
        builder.Services.AddSingleton<WindowBook>();
        builder.Services.AddSingleton<RedisWindowStore>();
        builder.Services.AddSingleton<RedisAccounts>();
        builder.Services.AddSingleton<IAdmissionStore, RedisAdmissionStore>();
        builder.Services.AddSingleton<IOtpNotifier, LogOtpNotifier>();
        builder.Services.AddSingleton<VoteBatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VoteBatcher>());
        builder.Services.AddHostedService<WindowsStartup>();
        builder.Services.AddSingleton<VerdictCache>();
        builder.Services.AddSingleton<RedisVerdictStore>();
        builder.Services.AddSingleton<IChallengeVerifier, DevelopmentChallengeVerifier>();
        builder.Services.AddHostedService<VerdictsStartup>();
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [FanVoteDefaults.ReadyTag]);
        builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor);
        return builder;
    }

    public static WebApplication MapIngressEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapSessionEndpoints();
        app.MapVoteEndpoints();
        app.MapWindowSubscriptions();
        app.MapCountSubscriptions();
        app.MapChallengeEndpoints();
        app.MapRiskVerdictSubscriptions();
        return app;
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
        catch (RedisException e)
        {
            return HealthCheckResult.Unhealthy("ingress's Redis (admission, idempotency) is not reachable", e);
        }
    }
}
