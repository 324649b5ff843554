using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FanVote.ServiceDefaults;

/// <summary>
/// One way of running an app's hot path before it takes traffic: a step that exercises it without side effects on
/// anything real (docs/benchmarks.md, "cold start": a fresh process runs at a third to two thirds of its warm rate for
/// 5-10 s while the tiered JIT compiles under load; the same code run first, on an idle CPU, removes that).
/// </summary>
public interface IWarmUpStep
{
    /// <summary>For the log line that says what warmed and how long it took.</summary>
    string Name { get; }

    /// <summary>
    /// Runs the hot path again and again until <paramref name="runFor"/> is cancelled, then finishes what is under way
    /// and returns (the JIT needs many calls and some time to put optimized code in place: a few seconds of it).
    /// </summary>
    Task RunAsync(CancellationToken runFor);
}

/// <summary>Whether the warm-up is over (done, failed or out of time): /healthz reports ready only then.</summary>
public sealed class WarmUpState
{
    private volatile bool _warm;

    public bool IsWarm => _warm;

    internal void Done() => _warm = true;
}

public static class WarmUpExtensions
{
    /// <summary>Longest warm-up (seconds) before the app reports ready anyway; 0 turns it off. Environment: FanVote__WarmUpSeconds.</summary>
    public const string SecondsSetting = "FanVote:WarmUpSeconds";

    /// <summary>How long (seconds) the steps run the hot path, within <see cref="SecondsSetting"/>. Environment: FanVote__WarmUpRunSeconds.</summary>
    public const string RunSecondsSetting = "FanVote:WarmUpRunSeconds";

    /// <summary>Adds <typeparamref name="TStep"/> to the app's warm-up, and (once) the warm-up itself and its readiness check.</summary>
    public static IServiceCollection AddWarmUpStep<TStep>(this IServiceCollection services)
        where TStep : class, IWarmUpStep
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IWarmUpStep, TStep>();
        if (services.Any(d => d.ServiceType == typeof(WarmUpState)))
        {
            return services;
        }

        services.AddSingleton<WarmUpState>();
        services.AddHostedService<WarmUpService>();
        services.AddHealthChecks().AddCheck<WarmUpHealthCheck>("warm-up", tags: [FanVoteDefaults.ReadyTag]);
        return services;
    }
}

/// <summary>
/// Once the app listens: runs every <see cref="IWarmUpStep"/> (together) for <see cref="WarmUpExtensions.RunSecondsSetting"/>
/// (default 3 s), then waits until the JIT is nearly idle for half a second (the optimized code of the hot path is in
/// place), all within <see cref="WarmUpExtensions.SecondsSetting"/> (default 15 s). A failing or hanging step is logged
/// and never keeps the app unready.
/// </summary>
internal sealed partial class WarmUpService(
    IEnumerable<IWarmUpStep> steps, WarmUpState state, IHostApplicationLifetime lifetime, IConfiguration configuration, ILogger<WarmUpService> log)
    : BackgroundService
{
    private const int QuietMethods = 10;
    private static readonly TimeSpan JitQuiet = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var budget = TimeSpan.FromSeconds(configuration.GetValue(WarmUpExtensions.SecondsSetting, 15.0));
        var runFor = TimeSpan.FromSeconds(configuration.GetValue(WarmUpExtensions.RunSecondsSetting, 3.0));
        try
        {
            if (budget <= TimeSpan.Zero)
            {
                return;
            }

            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(stoppingToken);
            }

            var clock = Stopwatch.StartNew();
            using var time = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            time.CancelAfter(budget);
            var methodsBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            using var run = CancellationTokenSource.CreateLinkedTokenSource(time.Token);
            run.CancelAfter(runFor < budget ? runFor : budget);
            try
            {
                // A step that does not stop when asked (a store that hangs) is left behind at the budget's end.
                await Task.WhenAll(steps.Select(s => RunStepAsync(s, run.Token))).WaitAsync(time.Token);
            }
            catch (OperationCanceledException) when (time.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
            {
                Log.OutOfTime(log);
            }

            var ran = clock.Elapsed;
            await WaitForJitQuietAsync(time.Token);
            var methods = System.Runtime.JitInfo.GetCompiledMethodCount() - methodsBefore;
            Log.Warm(log, ran.TotalSeconds, clock.Elapsed.TotalSeconds, methods, time.IsCancellationRequested);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            state.Done();
        }
    }

    private async Task RunStepAsync(IWarmUpStep step, CancellationToken cancellationToken)
    {
        try
        {
            await step.RunAsync(cancellationToken);
        }
        catch (Exception e)
        {
            Log.StepFailed(log, e, step.Name);
        }
    }

    /// <summary>
    /// Until the JIT has (almost) nothing left to do: fewer than <see cref="QuietMethods"/> methods compiled over the last
    /// <see cref="JitQuiet"/> (the tier-1 code of what ran is in place; an app's timers and probes still compile a few).
    /// </summary>
    private static async Task WaitForJitQuietAsync(CancellationToken cancellationToken)
    {
        var window = new Queue<long>();
        window.Enqueue(System.Runtime.JitInfo.GetCompiledMethodCount());
        var polls = (int)(JitQuiet / Poll);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Poll, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            window.Enqueue(System.Runtime.JitInfo.GetCompiledMethodCount());
            if (window.Count > polls)
            {
                if (window.Peek() is var oldest && window.Last() - oldest < QuietMethods)
                {
                    return;
                }

                window.Dequeue();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9010, Level = LogLevel.Information, Message = "warm: the hot path ran for {RanSeconds:F1} s, ready after {TotalSeconds:F1} s ({Methods} methods compiled; out of time: {OutOfTime})")]
        public static partial void Warm(ILogger logger, double ranSeconds, double totalSeconds, long methods, bool outOfTime);

        [LoggerMessage(EventId = 9011, Level = LogLevel.Warning, Message = "the warm-up ran out of time; the app reports ready anyway")]
        public static partial void OutOfTime(ILogger logger);

        [LoggerMessage(EventId = 9012, Level = LogLevel.Warning, Message = "warm-up step {Step} failed; the app reports ready anyway (it starts cold)")]
        public static partial void StepFailed(ILogger logger, Exception exception, string step);
    }
}

/// <summary>Not ready while the warm-up runs: a load balancer sends a fresh instance traffic only once its hot path is compiled.</summary>
internal sealed class WarmUpHealthCheck(WarmUpState state) : IHealthCheck
{
    // Degraded, not Unhealthy: /healthz answers 503 for both (FanVoteDefaults), but a start is no error in the logs.
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsWarm
            ? HealthCheckResult.Healthy("warm")
            : HealthCheckResult.Degraded("warming up: running the hot path before taking traffic"));
}
