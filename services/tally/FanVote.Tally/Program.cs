using FanVote.Contracts;
using FanVote.ServiceDefaults;
using FanVote.Tally;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Tally);
builder.AddTally();
var app = builder.Build();
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapVoteSubscriptions();
app.MapFlagSubscriptions();
app.MapWindowSubscriptions();
app.MapWindowRequestSubscriptions();
app.MapFanDataRequests(AppIds.Tally);
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
