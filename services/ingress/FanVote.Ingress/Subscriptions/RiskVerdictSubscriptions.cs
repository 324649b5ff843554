using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress.Core;
using FanVote.Ingress.Risk;

namespace FanVote.Ingress;

/// <summary>
/// `risk-verdicts` from the fraud service: account and device verdicts go into the cache (and Redis, and from there to
/// every instance). IP-prefix verdicts are acknowledged and not enforced: thousands of real fans share a carrier's prefix.
/// </summary>
public static class RiskVerdictSubscriptions
{
    public static WebApplication MapRiskVerdictSubscriptions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/risk-verdicts", async (RiskVerdictIssued e, VerdictCache cache, RedisVerdictStore store, TimeProvider time, ILogger<VerdictCache> log) =>
        {
            var verdict = new CachedVerdict(e.SubjectKind, e.Subject, e.EventId, e.Action, e.ExpiresAt, e.ReasonCodes);
            if (cache.Apply(verdict, time.GetUtcNow()))
            {
                await store.SaveAsync(verdict);
                IngressLog.VerdictApplied(log, e.Action, e.SubjectKind, e.Subject, e.ExpiresAt, e.ModelVersion);
            }

            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.RiskVerdicts);
        return app;
    }
}

/// <summary>Loads stored verdicts before traffic, then forgets lapsed ones once a minute.</summary>
public sealed class VerdictsStartup(RedisVerdictStore store, VerdictCache cache, TimeProvider time, ILogger<VerdictsStartup> log) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var loaded = await store.StartAsync();
        IngressLog.VerdictsLoaded(log, loaded);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            cache.Sweep(time.GetUtcNow());
        }
    }
}
