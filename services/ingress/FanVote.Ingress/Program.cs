using FanVote.Contracts;
using FanVote.Ingress;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Ingress);
builder.AddIngress();
var app = builder.Build();
app.UseForwardedHeaders(); // behind a proxy on loopback, the client address comes from X-Forwarded-For
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapIngressEndpoints();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
