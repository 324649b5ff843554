using FanVote.Contracts;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Results);
var app = builder.Build();
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
