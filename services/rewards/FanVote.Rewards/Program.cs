using FanVote.Contracts;
using FanVote.Rewards;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Rewards);
builder.AddRewards();
var app = builder.Build();
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapRewardSubscriptions();
app.MapAccountEndpoints();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
