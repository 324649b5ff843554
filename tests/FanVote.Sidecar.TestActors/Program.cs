using System.Globalization;
using Dapr.Actors.Runtime;
using FanVote.Sidecar.TestActors;

// Actors whose behaviour the conformance tests observe through GET /journal/{actorType}/{id}.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var idleSeconds = double.Parse(Environment.GetEnvironmentVariable("ACTOR_IDLE_SECONDS") ?? "3600", CultureInfo.InvariantCulture);
builder.Services.AddSingleton<Journal>();
builder.Services.AddActors(o =>
{
    o.Actors.RegisterActor<RecorderActor>();
    o.Actors.RegisterActor<ReminderActor>();
    o.Actors.RegisterActor<TimerActor>();
    o.Actors.RegisterActor<ThrowerActor>();
    o.Actors.RegisterActor<StateActor>();
    o.ActorIdleTimeout = TimeSpan.FromSeconds(idleSeconds);
    o.ActorScanInterval = TimeSpan.FromSeconds(1);
});
var app = builder.Build();
app.MapActorsHandlers();
app.MapGet("/journal/{type}/{id}", (string type, string id, Journal j) => Results.Json(j.Read(type, id)));
app.Run();
