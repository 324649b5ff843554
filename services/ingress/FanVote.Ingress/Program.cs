using FanVote.Contracts;
using FanVote.Ingress;
using FanVote.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Ingress);
builder.AddIngress();
builder.AddPublicApiDocument("FanVote: sign-in and voting (ingress)",
    "For fans: sign in (guest or one-time passcode), vote, answer a check. Problems are RFC 9457 problem+json with a detail a person can act on.");
var app = builder.Build();
app.UseFanAppCors(); // fans' browsers: the fan web app's origins (FANVOTE_FAN_APP_ORIGINS), before the token checks
app.UseForwardedHeaders(); // the client address: X-Forwarded-For only from FANVOTE_TRUSTED_PROXIES
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapIngressEndpoints();
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
