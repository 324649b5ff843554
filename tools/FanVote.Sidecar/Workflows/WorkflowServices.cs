namespace FanVote.Sidecar.Workflows;

/// <summary>DI for the workflow engine, and the hosted service that recovers instances and runs the timers.</summary>
public static class WorkflowServices
{
    public static IServiceCollection AddSidecarWorkflows(this IServiceCollection services)
    {
        services.AddSingleton<WorkflowEngine>();
        services.AddHostedService<WorkflowHost>();
        return services;
    }
}

/// <summary>
/// Recovery starts with the sidecar (components are initialised by then), not with the app: like daprd, work waits
/// in the engine until a worker opens `GetWorkItems`.
/// </summary>
public sealed class WorkflowHost(WorkflowEngine engine) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await engine.StartAsync(stoppingToken);
        if (engine.Ready.IsCompletedSuccessfully)
        {
            await engine.Timers.RunAsync(engine.FireTimerAsync, stoppingToken);
        }
    }
}
