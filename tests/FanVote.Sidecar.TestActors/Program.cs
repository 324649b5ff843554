var builder = WebApplication.CreateBuilder(args);
builder.Services.AddActors(_ => { });
var app = builder.Build();
app.MapActorsHandlers();
app.Run();
