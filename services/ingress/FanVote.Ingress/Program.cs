using FanVote.Contracts;
using FanVote.Ingress;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Ingress);
builder.AddIngress();
var app = builder.Build();
app.UseForwardedHeaders(); // the client address: X-Forwarded-For only from FANVOTE_TRUSTED_PROXIES
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapIngressEndpoints();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
