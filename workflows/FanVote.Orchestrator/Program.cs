using FanVote.Contracts;
using FanVote.Orchestrator;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Orchestrator);
builder.AddOrchestrator();
var app = builder.Build();
app.MapActorsHandlers();
app.MapOperatorApi();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
