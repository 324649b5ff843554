using System.Text.Json;
using FanVote.Contracts;
using FanVote.Ingress.Core;
using StackExchange.Redis;

namespace FanVote.Ingress.Adapters;

/// <summary>Window schedules persisted in ingress's Redis, so a restarted ingress enforces them at once.</summary>
public sealed class RedisWindowStore(IConnectionMultiplexer redis)
{
    private const string Key = "ingress:windows";

    public async Task SaveAsync(WindowSchedule w)
    {
        ArgumentNullException.ThrowIfNull(w);
        await redis.GetDatabase().HashSetAsync(Key, w.WindowId, JsonSerializer.Serialize(new Stored(w.WindowId, w.Candidates, w.OpensAt, w.ClosesAt, w.VotesPerAccount), FanVoteJson.Options));
    }

    public async Task<IReadOnlyList<WindowSchedule>> LoadAsync()
    {
        var entries = await redis.GetDatabase().HashGetAllAsync(Key);
        return [.. entries.Select(e => JsonSerializer.Deserialize<Stored>((string)e.Value!, FanVoteJson.Options)!)
            .Select(s => new WindowSchedule(s.WindowId, s.Candidates, s.OpensAt, s.ClosesAt, s.VotesPerAccount))];
    }

    private sealed record Stored(string WindowId, IReadOnlyList<string> Candidates, DateTimeOffset OpensAt, DateTimeOffset ClosesAt, int VotesPerAccount);
}
