using FanVote.Contracts;
using FanVote.Results;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Results);
builder.AddResults();
var app = builder.Build();
app.UseForwardedHeaders(); // the client address (stream caps): X-Forwarded-For only from FANVOTE_TRUSTED_PROXIES
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapResultsSubscriptions();
app.MapReceiptSubscriptions();
app.MapResultsEndpoints();
app.MapReceiptEndpoints();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
