using FanVote.Fraud.Publishing;
using FanVote.Fraud.Scoring;
using FanVote.ServiceDefaults;

namespace FanVote.Fraud;

public static class FraudExtensions
{
    public static WebApplicationBuilder AddFraud(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<FraudOptions>()
            .BindConfiguration("Fraud")
            .Configure<IConfiguration>((o, c) => o.ModelRoot = c["FANVOTE_MODEL_ROOT"] is { Length: > 0 } r ? r : o.ModelRoot)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<FraudMetrics>();
        builder.Services.AddSingleton<ModelAnnouncer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelAnnouncer>());
        builder.Services.AddSingleton<ModelWatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelWatcher>());
        builder.Services.AddSingleton<RiskOutbox>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RiskOutbox>());
        builder.Services.AddSingleton<FraudPipeline>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FraudPipeline>());
        builder.Services.AddSingleton<IFanDataHolder, Privacy.FraudFanData>();
        builder.Services.AddHealthChecks().AddCheck<ModelWatcher>("model", tags: [FanVoteDefaults.ReadyTag]);
        return builder;
    }
}
