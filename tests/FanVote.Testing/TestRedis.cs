using StackExchange.Redis;

namespace FanVote.Testing;

/// <summary>The connection a test uses for its own reads and writes of Redis.</summary>
public static class TestRedis
{
    /// <summary>
    /// Connects to <paramref name="address"/> (host:port) with timeouts meant for a starved machine: the client's
    /// default 5 s ran out in CI on a 2-core machine under heavy load, failing a test over its own setup write.
    /// </summary>
    public static Task<ConnectionMultiplexer> ConnectAsync(string address)
    {
        var options = ConfigurationOptions.Parse(address);
        options.SyncTimeout = 60_000;
        options.AsyncTimeout = 60_000;
        options.ConnectTimeout = 30_000;
        return ConnectionMultiplexer.ConnectAsync(options);
    }
}
