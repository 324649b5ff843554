using FanVote.Contracts;
using FanVote.Results;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Results);
builder.AddResults();
builder.AddPublicApiDocument("FanVote: live and certified results (results)",
    "For everyone: live results (JSON and Server-Sent Events), certified results signed by the auditor, and each vote's inclusion proof.");
var app = builder.Build();
app.UseForwardedHeaders(); // the client address (stream caps): X-Forwarded-For only from FANVOTE_TRUSTED_PROXIES
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapResultsSubscriptions();
app.MapReceiptSubscriptions();
app.MapResultsEndpoints();
app.MapReceiptEndpoints();
app.MapFanDataRequests(AppIds.Results);
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
