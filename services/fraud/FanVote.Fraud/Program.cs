using FanVote.Contracts;
using FanVote.Fraud;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Fraud);
builder.AddFraud();
var app = builder.Build();
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapVoteSubscriptions();
app.MapFanDataRequests(AppIds.Fraud);
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
