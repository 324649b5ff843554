using Dapr;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Ingress.Core;
using FanVote.Ingress.Risk;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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
                IngressLog.VerdictApplied(log, e.Action, e.SubjectKind, new FanVote.ServiceDefaults.RedactedId(e.Subject), e.ExpiresAt, e.ModelVersion);
            }

            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.RiskVerdicts);
        return app;
    }
}

/// <summary>Loads stored verdicts before traffic, then forgets lapsed ones (in memory and in Redis) every
/// <c>Ingress:VerdictSweepInterval</c> (a minute by default).</summary>
public sealed class VerdictsStartup(RedisVerdictStore store, VerdictCache cache, TimeProvider time, IOptions<IngressOptions> options, ILogger<VerdictsStartup> log) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var loaded = await store.StartAsync();
        IngressLog.VerdictsLoaded(log, loaded);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.VerdictSweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = time.GetUtcNow();
            cache.Sweep(now);
            try
            {
                var pruned = await store.PruneAsync(now);
                if (pruned > 0)
                {
                    IngressLog.VerdictsPruned(log, pruned);
                }
            }
            catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
            {
                IngressLog.VerdictsPruneFailed(log, e.GetType().Name); // tried again at the next tick
            }
        }
    }
}
