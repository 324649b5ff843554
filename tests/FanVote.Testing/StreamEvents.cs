using System.Text.Json;
using StackExchange.Redis;

namespace FanVote.Testing;

/// <summary>What was published on a topic of the local Redis Streams pub/sub: the CloudEvents, read straight from the stream.</summary>
public static class StreamEvents
{
    // Web defaults: what FanVoteJson (and so every service) uses.
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>(CloudEvent type, data.eventId, data.windowId) of every message on <paramref name="topic"/>.</summary>
    public static async Task<List<(string Type, Guid EventId, string WindowId)>> ReadAsync(string redisAddress, string topic)
    {
        await using var mux = await TestRedis.ConnectAsync(redisAddress);
        var entries = await mux.GetDatabase().StreamRangeAsync(topic);
        var list = new List<(string, Guid, string)>();
        foreach (var e in entries)
        {
            using var ce = JsonDocument.Parse((string)e["data"]!);
            var data = ce.RootElement.GetProperty("data");
            // Events about no window (an app's KeysInUse on window-reports, say) have "" as their window.
            list.Add((ce.RootElement.GetProperty("type").GetString()!, data.GetProperty("eventId").GetGuid(), data.TryGetProperty("windowId", out var w) ? w.GetString()! : ""));
        }

        return list;
    }

    /// <summary>The data of every message on <paramref name="topic"/> whose CloudEvent type is <paramref name="type"/> (any type when null).</summary>
    public static async Task<List<T>> DataAsync<T>(string redisAddress, string topic, string? type = null)
    {
        await using var mux = await TestRedis.ConnectAsync(redisAddress);
        var list = new List<T>();
        foreach (var e in await mux.GetDatabase().StreamRangeAsync(topic))
        {
            using var ce = JsonDocument.Parse((string)e["data"]!);
            if (type is null || ce.RootElement.GetProperty("type").GetString() == type)
            {
                list.Add(ce.RootElement.GetProperty("data").Deserialize<T>(Web)!);
            }
        }

        return list;
    }

    /// <summary>
    /// Waits (60 s at most) until <paramref name="group"/> (an app id: the local pub/sub's consumer group) has been handed
    /// every message on <paramref name="topic"/> and acknowledged them all: whatever was published before was handled.
    /// </summary>
    public static async Task WaitConsumedAsync(string redisAddress, string topic, string group)
    {
        await using var mux = await TestRedis.ConnectAsync(redisAddress);
        var db = mux.GetDatabase();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var last = (await db.StreamInfoAsync(topic)).LastGeneratedId;
            var g = (await db.StreamGroupInfoAsync(topic)).FirstOrDefault(x => x.Name == group);
            if (g.Name is not null && g.PendingMessageCount == 0 && g.LastDeliveredId == last)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{group}'s group on {topic}: pending {g.PendingMessageCount}, last delivered {g.LastDeliveredId}, stream at {last}");
            }

            await Task.Delay(200);
        }
    }
}
