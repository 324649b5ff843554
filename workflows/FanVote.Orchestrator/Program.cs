using FanVote.Contracts;
using FanVote.Orchestrator;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Orchestrator);
builder.AddOrchestrator();
builder.AddPublicApiDocument("FanVote: operator API (orchestrator)",
    "For show operators (the operator key): create and schedule voting windows, follow their lifecycle, continue step-by-step windows, read audit reports and certified results. For fans (their session token): a copy of their data, and its erasure.");
var app = builder.Build();
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapWindowReportSubscriptions();
app.MapOperatorApi();
app.MapActionLogApi();
app.MapDataReportSubscriptions();
app.MapFanDataApi();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
