using FanVote.Sidecar.Actors;
using FanVote.Sidecar.Api;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.Hosting;
using FanVote.Sidecar.PubSub;
using FanVote.Sidecar.State;
using FanVote.Sidecar.Workflows;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

SidecarOptions options;
try
{
    options = CommandLine.Parse(args, Environment.GetEnvironmentVariable);
}
catch (CommandLineHelpException)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}
catch (CommandLineException e)
{
    await Console.Error.WriteLineAsync($"fanvote-sidecar: {e.Message}");
    return 2;
}

var level = options.LogLevel.ToLowerInvariant() switch
{
    "debug" => LogEventLevel.Debug,
    "warn" or "warning" => LogEventLevel.Warning,
    "error" => LogEventLevel.Error,
    "fatal" => LogEventLevel.Fatal,
    _ => LogEventLevel.Information,
};
var logConfig = new LoggerConfiguration()
    .MinimumLevel.Is(level)
    .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
    .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
    .Enrich.FromLogContext()
    .Enrich.WithProperty("app_id", options.AppId)
    .Enrich.WithProperty("scope", "fanvote-sidecar");
Log.Logger = (options.LogAsJson
        ? logConfig.WriteTo.Console(new RenderedCompactJsonFormatter())
        : logConfig.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} [sidecar:{app_id}] {Message:lj}{NewLine}{Exception}"))
    .CreateLogger();

try
{
    ResourceSet resources;
    try
    {
        resources = ResourceLoader.Load(options.ResourcesPaths, options.AppId, options.ConfigPath, Environment.GetEnvironmentVariable);
        ComponentRegistry.Validate(resources);
    }
    catch (ResourceException e)
    {
        Log.Fatal("fanvote-sidecar cannot start: {Reason}", e.Message);
        return 1;
    }

    var builder = WebApplication.CreateSlimBuilder();
    builder.Host.UseSerilog();
    builder.Host.ConfigureHostOptions(h => h.ShutdownTimeout = options.GracefulShutdown);
    builder.WebHost.ConfigureKestrel(k =>
    {
        var address = System.Net.IPAddress.Parse(options.ListenAddress == "localhost" ? "127.0.0.1" : options.ListenAddress);
        k.Limits.MaxRequestBodySize = options.MaxBodySizeBytes;
        k.Listen(address, options.DaprHttpPort, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1);
        k.Listen(address, options.DaprGrpcPort, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
    });
    builder.Services.AddGrpc(g =>
    {
        g.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, options.MaxBodySizeBytes);
        g.MaxSendMessageSize = null;
    });
    var registry = new ComponentRegistry(resources);
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton(registry);
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddSingleton<SidecarReadiness>();
    builder.Services.AddSingleton<SidecarMetadata>();
    builder.Services.AddSingleton<AppChannel>();
    builder.Services.AddHostedService<SidecarStartup>();
    builder.Services.AddSidecarState();
    builder.Services.AddSidecarPubSub();
    builder.Services.AddSidecarActors();
    builder.Services.AddSidecarWorkflows();

    var app = builder.Build();
    try
    {
        await registry.InitializeAsync(options, app.Services.GetRequiredService<ILoggerFactory>(), CancellationToken.None);
    }
    catch (ResourceException e)
    {
        Log.Fatal("fanvote-sidecar cannot start: {Reason}", e.Message);
        return 1;
    }

    app.UseSidecarPipeline();
    app.UseRouting(); // after the pipeline: routes must see the cleaned path (//v1.0/... → /v1.0/...)
    app.MapGrpcService<DaprGrpcService>();
    app.MapGrpcService<WorkflowGrpcService>();
    app.MapHealthAndMetadata();
    app.MapStateHttpApi();
    app.MapPubSubHttpApi();
    app.MapActorsHttpApi();
    app.MapUnofferedApis();
    await app.RunAsync();
    await registry.DisposeAsync();
    return 0;
}
catch (Exception e) when (e is not OperationCanceledException)
{
    Log.Fatal(e, "fanvote-sidecar stopped unexpectedly");
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}
