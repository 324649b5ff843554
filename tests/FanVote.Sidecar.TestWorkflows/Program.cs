using Dapr.Workflow;
using StackExchange.Redis;

// Workflows the conformance tests drive through DaprWorkflowClient; no HTTP endpoint, the worker pulls work over gRPC.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var redis = Environment.GetEnvironmentVariable("WF_REDIS") ?? throw new InvalidOperationException("WF_REDIS (host:port) is required");
builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis));
builder.Services.AddDaprWorkflow(_ => { });
await builder.Build().RunAsync();
