using FanVote.Contracts;
using FanVote.Rewards;
using FanVote.Rewards.Adapters;
using FanVote.ServiceDefaults;

// `FanVote.Rewards migrate`: the separate, privileged step that creates the ledger's schema and restricted role
// (FANVOTE_PG_ADMIN_CONNECTION, FANVOTE_REWARDS_PG_CONNECTION), then exits. The service itself never has the admin connection.
if (args is ["migrate", ..])
{
    var admin = Environment.GetEnvironmentVariable(LedgerSchema.AdminSetting);
    var restricted = Environment.GetEnvironmentVariable(LedgerSchema.Setting);
    if (string.IsNullOrEmpty(admin) || string.IsNullOrEmpty(restricted))
    {
        await Console.Error.WriteLineAsync($"migrate needs {LedgerSchema.AdminSetting} (a connection that owns the ledger's tables and may create roles) and {LedgerSchema.Setting} (the restricted role's Username and Password)");
        return 2;
    }

    try
    {
        await LedgerSchema.MigrateAsync(admin, restricted, CancellationToken.None);
    }
    catch (Exception e) when (e is InvalidOperationException or Npgsql.NpgsqlException or ArgumentException)
    {
        await Console.Error.WriteLineAsync("migrate failed: " + e.Message);
        return 1;
    }

    await Console.Out.WriteLineAsync("points ledger schema and its restricted role are up to date");
    return 0;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddFanVoteDefaults(AppIds.Rewards);
builder.AddRewards();
builder.AddPublicApiDocument("FanVote: points (rewards)", "For fans: the signed-in fan's points balance and statement, spin-to-win wheels and spins, raffles and their entries, VIP tiers, polls, trivia. For operators: wheels, raffles, polls and trivia rounds.");
var app = builder.Build();
app.UseFanAppCors(); // fans' browsers: the fan web app's origins (FANVOTE_FAN_APP_ORIGINS), before the token checks
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapRewardSubscriptions();
app.MapAccountEndpoints();
app.MapSpinEndpoints();
app.MapRaffleEndpoints();
app.MapTierEndpoints();
app.MapPollEndpoints();
app.MapTriviaEndpoints();
app.MapLineupEndpoints();
app.MapFanDataRequests(AppIds.Rewards);
app.MapFanVoteDefaultEndpoints();
return app.RunFanVote();
