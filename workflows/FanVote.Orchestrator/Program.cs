using FanVote.Contracts;
using FanVote.Orchestrator;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Orchestrator);
builder.AddOrchestrator();
var app = builder.Build();
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapWindowReportSubscriptions();
app.MapOperatorApi();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
