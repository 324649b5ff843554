using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using FanVote.Contracts;
using FanVote.Results.Core;

namespace FanVote.Results.Streaming;

/// <summary>
/// Fans each update out to every open stream of its window. The SSE frame is serialized once per update and
/// the same bytes go to every subscriber's one-slot channel; a slow client just misses intermediate frames
/// (its slot holds the newest), it never blocks the others. One shared heartbeat timer serves every stream.
/// </summary>
public sealed class ResultsHub : BackgroundService
{
    public static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(15);
    private static readonly byte[] Heartbeat = Encoding.UTF8.GetBytes(": keep-alive\n\n");

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Channel<byte[]>, byte>> _streams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _perClient = new(StringComparer.Ordinal);
    private readonly Meter _meter = new("FanVote.Results");
    private readonly Counter<long> _frames;
    private int _open;

    public ResultsHub(Microsoft.Extensions.Options.IOptions<ResultsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        MaxStreamsPerClient = options.Value.MaxStreamsPerClient;
        _meter.CreateObservableUpDownCounter("fanvote.results.open_streams", () => Volatile.Read(ref _open), unit: "{stream}", description: "Open SSE streams");
        _frames = _meter.CreateCounter<long>("fanvote.results.frames_fanned_out", unit: "{frame}");
    }

    public int OpenStreams => Volatile.Read(ref _open);

    /// <summary>Most streams one client address may hold open (a venue behind one NAT address needs some; a script needs none).</summary>
    public int MaxStreamsPerClient { get; }

    /// <summary>Counts a new stream of <paramref name="client"/>; false (nothing counted) when it holds the most already.</summary>
    public bool TryOpen(string client)
    {
        while (true)
        {
            var n = _perClient.GetOrAdd(client, 0);
            if (n >= MaxStreamsPerClient)
            {
                return false;
            }

            if (_perClient.TryUpdate(client, n + 1, n))
            {
                return true;
            }
        }
    }

    /// <summary>One stream of <paramref name="client"/> ended.</summary>
    public void Close(string client)
    {
        while (_perClient.TryGetValue(client, out var n))
        {
            if (n <= 1 ? _perClient.TryRemove(new KeyValuePair<string, int>(client, n)) : _perClient.TryUpdate(client, n - 1, n))
            {
                return;
            }
        }
    }

    public static byte[] Frame(ResultView view) =>
        Encoding.UTF8.GetBytes($"id: {view.Seq}\nevent: tally\ndata: {JsonSerializer.Serialize(ResultsJson.From(view), FanVoteJson.Options)}\n\n");

    public Channel<byte[]> Subscribe(string windowId)
    {
        var channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _streams.GetOrAdd(windowId, _ => new()).TryAdd(channel, 0);
        Interlocked.Increment(ref _open);
        return channel;
    }

    public void Unsubscribe(string windowId, Channel<byte[]> channel)
    {
        if (_streams.TryGetValue(windowId, out var set) && set.TryRemove(channel, out _))
        {
            Interlocked.Decrement(ref _open);
        }
    }

    public void Publish(ResultView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (!_streams.TryGetValue(view.WindowId, out var set) || set.IsEmpty)
        {
            return;
        }

        var frame = Frame(view);
        foreach (var channel in set.Keys)
        {
            channel.Writer.TryWrite(frame);
        }

        _frames.Add(set.Count);
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(HeartbeatEvery);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var set in _streams.Values)
            {
                foreach (var channel in set.Keys)
                {
                    // A pending update is better than a heartbeat: only fill an empty slot.
                    if (channel.Reader.Count == 0)
                    {
                        channel.Writer.TryWrite(Heartbeat);
                    }
                }
            }
        }
    }
}

/// <summary>The JSON shape of the results endpoint and of each SSE event.</summary>
public sealed record ResultsJson(string WindowId, string? Title, IReadOnlyList<string> Candidates, long Seq, long Total, IReadOnlyDictionary<string, long> Counts, DateTimeOffset? UpdatedAt)
{
    public static ResultsJson From(ResultView v) => new(v.WindowId, v.Title, v.Candidates, v.Seq, v.Total, v.Counts, v.UpdatedAt);
}
