using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace FanVote.ServiceDefaults.Tests;

/// <summary>An app is ready (/healthz) only once its warm-up is over: done, failed, or out of time, never stuck unready.</summary>
public sealed class WarmUpTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>A step that runs until the test lets it go (or its time is up).</summary>
    private sealed class GateStep(Gate gate) : IWarmUpStep
    {
        public string Name => "gate";

        // Ignores runFor: only the test (or the budget) ends it, as a step stuck on a hung store would be.
        public async Task RunAsync(CancellationToken runFor)
        {
            gate.Started.TrySetResult();
            if (gate.Fail)
            {
                throw new InvalidOperationException("the step broke");
            }

            await gate.Release.Task;
        }
    }

    private sealed class Gate
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Fail { get; init; }
    }

    private static IHost Host(Gate gate, string? seconds = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        if (seconds is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [WarmUpExtensions.SecondsSetting] = seconds });
        }

        builder.Services.AddSingleton(gate);
        builder.Services.AddWarmUpStep<GateStep>();
        return builder.Build();
    }

    private static async Task<HealthReport> ReadinessAsync(IHost host) =>
        await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains(FanVoteDefaults.ReadyTag), TestContext.Current.CancellationToken);

    private static async Task<HealthReport> WaitReadyAsync(IHost host)
    {
        var until = DateTime.UtcNow + Deadline;
        HealthReport report;
        while ((report = await ReadinessAsync(host)).Status != HealthStatus.Healthy && DateTime.UtcNow < until)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        return report;
    }

    /// <summary>Starts a host with the step, waits until it is ready (or the deadline), stops it; the last readiness seen.</summary>
    private static async Task<HealthReport> RunUntilReadyAsync(Gate gate, string? seconds = null)
    {
        using var host = Host(gate, seconds);
        await host.StartAsync(TestContext.Current.CancellationToken);
        var after = await WaitReadyAsync(host);
        await host.StopAsync(TestContext.Current.CancellationToken);
        return after;
    }

    [Fact]
    public async Task NotReadyWhileTheStepRuns_ReadyOnceItIsDone()
    {
        var gate = new Gate();
        using var host = Host(gate);
        await host.StartAsync(TestContext.Current.CancellationToken);

        await gate.Started.Task.WaitAsync(Deadline, TestContext.Current.CancellationToken);
        var during = await ReadinessAsync(host);
        gate.Release.SetResult();
        var after = await WaitReadyAsync(host);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Degraded, during.Status);
        Assert.Equal("warming up: running the hot path before taking traffic", during.Entries["warm-up"].Description);
        Assert.Equal(HealthStatus.Healthy, after.Status);
    }

    [Fact]
    public async Task AFailingStep_StillEndsReady()
    {
        var gate = new Gate { Fail = true };
        var after = await RunUntilReadyAsync(gate);

        Assert.True(gate.Started.Task.IsCompleted, "the step never ran");
        Assert.Equal(HealthStatus.Healthy, after.Status);
    }

    [Fact]
    public async Task AStepThatNeverEnds_IsLeftBehindAtTheTimeSet_AndTheAppEndsReady()
    {
        var gate = new Gate();
        var after = await RunUntilReadyAsync(gate, seconds: "1");

        Assert.True(gate.Started.Task.IsCompleted, "the step never ran");
        Assert.False(gate.Release.Task.IsCompleted);
        Assert.Equal(HealthStatus.Healthy, after.Status);
    }

    [Fact]
    public async Task TurnedOff_ReadyAtOnce_TheStepNeverRuns()
    {
        var gate = new Gate();
        var after = await RunUntilReadyAsync(gate, seconds: "0");

        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.False(gate.Started.Task.IsCompleted, "the step ran although the warm-up is off");
    }
}
