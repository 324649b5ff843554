using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using FanVote.Tally.Adapters;
using FanVote.Tally.Core;

namespace FanVote.Tally;

public static class TallyExtensions
{
    public static WebApplicationBuilder AddTally(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TallyOptions>()
            .BindConfiguration("Tally")
            .Configure<IConfiguration>((o, c) => o.ConnectionString = c["FANVOTE_PG_CONNECTION"] is { Length: > 0 } cs ? cs : o.ConnectionString)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<TallyMetrics>();
        builder.Services.AddSingleton(sp => new VoteSeal(sp.Key(builder.Configuration, VoteSeal.Setting, "vote-seal")));
        builder.Services.AddSingleton(sp => new VoteScreen(sp.GetRequiredService<VoteSeal>()));
        builder.Services.AddSingleton<Audit.AuditSigner>();
        builder.Services.ResolveOnStart<Audit.AuditSigner>();
        builder.Services.ResolveOnStart<VoteSeal>();
        builder.Services.AddSingleton<PostgresWindows>();
        builder.Services.AddSingleton<PostgresVoteLedger>();
        builder.Services.AddSingleton<IVoteLedger>(sp => sp.GetRequiredService<PostgresVoteLedger>());
        builder.Services.AddWarmUpStep<WarmUp.TallyWarmUp>();
        builder.Services.AddSingleton<LiveTally>();
        builder.Services.AddSingleton<TallyTraces>();
        builder.Services.AddSingleton<PostgresAuditStore>();
        builder.Services.AddSingleton<Audit.AuditWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Audit.AuditWorker>());
        builder.Services.AddHostedService<LedgerStartup>();
        builder.Services.AddHostedService<TallyPublisher>();
        builder.Services.AddSingleton(sp => new Pseudonyms(sp.Key(builder.Configuration, Pseudonyms.Setting, "pseudonyms")));
        builder.Services.ResolveOnStart<Pseudonyms>();
        builder.Services.AddSingleton<PostgresRetention>();
        builder.Services.AddHostedService<RetentionWorker>();
        builder.Services.AddSingleton<IFanDataHolder, TallyFanData>();
        builder.Services.AddHealthChecks().AddDatabaseProbe("ledger", sp => sp.GetRequiredService<PostgresVoteLedger>().DataSource, "SELECT 1 FROM votes LIMIT 1", "the vote ledger");
        return builder;
    }
}
