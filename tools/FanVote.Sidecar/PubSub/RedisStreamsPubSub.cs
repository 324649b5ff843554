using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using StackExchange.Redis;

namespace FanVote.Sidecar.PubSub;

/// <summary>
/// <c>pubsub.redis</c> on Redis Streams, reproducing components-contrib 1.17+ (docs/dapr-subset.md §6.1): XADD with
/// <c>data</c> + <c>metadata</c>, one consumer group per consumerID created at 0 with MKSTREAM, a read loop
/// feeding a <c>queueDepth</c> queue served by <c>concurrency</c> workers, XACK after the handler returns
/// (success or failure), pending when it was cancelled or exceeded <c>processingTimeout</c>, and a redelivery
/// loop (XPENDING + XCLAIM) every <c>redeliverInterval</c>.
/// </summary>
public sealed class RedisStreamsPubSub(ComponentSpec spec, string appId, ILogger<RedisStreamsPubSub> log) : IPubSub, IBatchSubscriber, IStreamTrimming
{
    // StackExchange.Redis multiplexes every command over one connection, where a blocking command would hold up all
    // the others. So each consumer reads on a connection of its own with XREADGROUP ... BLOCK (as daprd does): an idle
    // stream costs one call per BlockFor instead of a poll every few milliseconds, and a new entry is read at once.
    private static readonly TimeSpan BlockFor = TimeSpan.FromSeconds(1);

    private static readonly RedisValue DataField = "data";

    private readonly List<Task> _loops = [];
    private readonly List<ConnectionMultiplexer> _readers = [];
    private ConnectionMultiplexer? _redis;
    private ConfigurationOptions? _config;
    private StreamTrimmer? _trimmer;

    public ComponentSpec Spec => spec;

    internal RedisStreamsSettings Settings { get; } = RedisStreamsSettings.From(spec);

    private IDatabase Db => _redis?.GetDatabase(Settings.Db) ?? throw new InvalidOperationException($"pubsub {spec.Name} is not initialised");

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        _ = appId;
        var host = spec.Get("redisHost") ?? throw new ResourceException($"component '{spec.Name}' ({spec.SourceFile}): metadata redisHost is required");
        var config = ConfigurationOptions.Parse(host);
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = 5000;
        if (spec.Get("redisPassword") is { Length: > 0 } password)
        {
            config.Password = password;
        }

        if (spec.Get("redisUsername") is { Length: > 0 } user)
        {
            config.User = user;
        }

        config.Ssl = spec.GetBool("enableTLS");
        _config = config;
        _redis = await ConnectionMultiplexer.ConnectAsync(config);
        if (!await PingAsync(cancellationToken))
        {
            throw new InvalidOperationException($"cannot reach Redis at {host}");
        }

        _trimmer = new StreamTrimmer(() => Db, StreamTrimmer.IntervalFrom(Environment.GetEnvironmentVariable), log);
    }

    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        await Db.ExecuteAsync("XADD", XAddArgs(topic, data, metadata)).WaitAsync(cancellationToken);
    }

    /// <summary>One pipelined write of every XADD (one flush, one wait), instead of a round trip per message.</summary>
    public async Task<Exception?[]> PublishManyAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var batch = Db.CreateBatch();
        var adds = new Task[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            adds[i] = m.Metadata.Count == 0 && Settings.StreamTtl <= TimeSpan.Zero
                ? batch.StreamAddAsync(topic, DataField, m.Data, maxLength: Settings.MaxLenApprox > 0 ? (int)Settings.MaxLenApprox : null, useApproximateMaxLength: true)
                : batch.ExecuteAsync("XADD", XAddArgs(topic, m.Data, m.Metadata));
        }

        batch.Execute();
        try
        {
            await Task.WhenAll(adds).WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Each task's own outcome is read below; a failed one does not fail the others.
        }

        var errors = new Exception?[messages.Count];
        for (var i = 0; i < adds.Length; i++)
        {
            errors[i] = adds[i].Exception?.InnerException;
        }

        return errors;
    }

    private object[] XAddArgs(string topic, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata)
    {
        var args = new List<object>(9) { topic };
        if (Settings.MaxLenApprox > 0)
        {
            args.AddRange(["MAXLEN", "~", Settings.MaxLenApprox]);
        }
        else if (Settings.StreamTtl > TimeSpan.Zero)
        {
            var minId = DateTimeOffset.UtcNow.Add(-Settings.StreamTtl).ToUnixTimeMilliseconds();
            args.AddRange(["MINID", "~", minId.ToString(CultureInfo.InvariantCulture)]);
        }

        args.AddRange(["*", "data", data.ToArray()]);
        if (metadata.Count > 0)
        {
            args.AddRange(["metadata", JsonSerializer.Serialize(metadata)]);
        }

        return [.. args];
    }

    public async Task SubscribeAsync(
        string topic,
        string consumerId,
        IReadOnlyDictionary<string, string> subscriptionMetadata,
        Func<BrokerMessage, CancellationToken, Task> handler,
        CancellationToken stopping)
    {
        await EnsureGroupAsync(topic, consumerId);
        _trimmer?.Track(topic);
        var consumer = new Consumer(this, topic, consumerId, stopping) { Handler = handler };
        lock (_loops)
        {
            _loops.AddRange(consumer.Start());
        }
    }

    public async Task SubscribeBatchesAsync(
        string topic,
        string consumerId,
        int maxMessages,
        TimeSpan maxAwait,
        int batchesInFlight,
        Func<IReadOnlyList<BrokerMessage>, Action<int>, CancellationToken, Task> handler,
        CancellationToken stopping)
    {
        await EnsureGroupAsync(topic, consumerId);
        _trimmer?.Track(topic);
        var consumer = new Consumer(this, topic, consumerId, stopping) { Batches = new BatchMode(Math.Max(1, maxMessages), maxAwait, Math.Max(1, batchesInFlight), handler) };
        lock (_loops)
        {
            _loops.AddRange(consumer.Start());
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Db.PingAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public void KeepWhole(string topic) => _trimmer?.KeepWhole(topic);

    public async ValueTask DisposeAsync()
    {
        if (_trimmer is not null)
        {
            await _trimmer.DisposeAsync();
        }

        Task[] loops;
        lock (_loops)
        {
            loops = [.. _loops];
        }

        try
        {
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }

        ConnectionMultiplexer[] readers;
        lock (_readers)
        {
            readers = [.. _readers];
        }

        foreach (var reader in readers)
        {
            await reader.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    /// <summary>A connection for one consumer's blocking reads (see <see cref="BlockFor"/>); reconnects by itself like the shared one.</summary>
    private async Task<IDatabase> OpenReaderAsync(string topic, string group)
    {
        var config = (_config ?? throw new InvalidOperationException($"pubsub {spec.Name} is not initialised")).Clone();
        config.ClientName = $"{appId}-{group}-{topic}-reader";
        config.AsyncTimeout = Math.Max(config.AsyncTimeout, (int)(BlockFor + TimeSpan.FromSeconds(9)).TotalMilliseconds);
        var reader = await ConnectionMultiplexer.ConnectAsync(config);
        lock (_readers)
        {
            _readers.Add(reader);
        }

        return reader.GetDatabase(Settings.Db);
    }

    /// <summary>
    /// Turns an XREADGROUP reply for one stream into entries: nil when BLOCK timed out; under RESP3 (which the client
    /// negotiates with Redis 6+) a map {stream: [[id, [field, value, ...]], ...]}, under RESP2 [[stream, [...]]].
    /// </summary>
    internal static StreamEntry[] ParseReadGroup(RedisResult reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.IsNull || reply.Length < 1)
        {
            return [];
        }

        var top = (RedisResult[])reply!;
        var streamEntries = reply.Resp3Type == ResultType.Map ? top[1] : ((RedisResult[])top[0]!)[1];
        if (streamEntries.IsNull)
        {
            return [];
        }

        var items = (RedisResult[])streamEntries!;
        var entries = new StreamEntry[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var item = (RedisResult[])items[i]!;
            var fields = item[1].IsNull ? [] : (RedisResult[])item[1]!;
            var values = new NameValueEntry[fields.Length / 2];
            for (var f = 0; f < values.Length; f++)
            {
                values[f] = new NameValueEntry((RedisValue)fields[2 * f], (RedisValue)fields[(2 * f) + 1]);
            }

            entries[i] = new StreamEntry((RedisValue)item[0], values);
        }

        return entries;
    }

    private async Task EnsureGroupAsync(string topic, string group)
    {
        try
        {
            await Db.ExecuteAsync("XGROUP", "CREATE", topic, group, "0", "MKSTREAM");
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    private sealed record BatchMode(int MaxMessages, TimeSpan MaxAwait, int InFlight, Func<IReadOnlyList<BrokerMessage>, Action<int>, CancellationToken, Task> Handler);

    /// <summary>
    /// One consumer group reader: a read loop and a redelivery loop feed a local queue, which is served either
    /// message by message by <c>concurrency</c> workers (<see cref="Handler"/>) or in batches (<see cref="Batches"/>).
    /// </summary>
    private sealed class Consumer(RedisStreamsPubSub owner, string topic, string group, CancellationToken stopping)
    {
        public Func<BrokerMessage, CancellationToken, Task>? Handler { get; init; }

        public BatchMode? Batches { get; init; }

        private readonly Channel<StreamEntry> _queue = Channel.CreateBounded<StreamEntry>(Math.Max(1, owner.Settings.QueueDepth));

        // Entries read or claimed by this process and not finished yet; the redelivery loop skips them so a
        // backlog in the local queue is not claimed again while it waits.
        private readonly ConcurrentDictionary<string, byte> _local = new(StringComparer.Ordinal);

        private RedisStreamsSettings Settings => owner.Settings;

        public IEnumerable<Task> Start()
        {
            yield return Task.Run(ReadLoopAsync, CancellationToken.None);
            if (Batches is not null)
            {
                yield return Task.Run(BatchLoopAsync, CancellationToken.None);
            }
            else
            {
                for (var i = 0; i < Math.Max(1, Settings.Concurrency); i++)
                {
                    yield return Task.Run(WorkerAsync, CancellationToken.None);
                }
            }

            if (Settings.ProcessingTimeout > TimeSpan.Zero && Settings.RedeliverInterval > TimeSpan.Zero)
            {
                yield return Task.Run(RedeliverLoopAsync, CancellationToken.None);
            }
        }

        private async Task ReadLoopAsync()
        {
            IDatabase? reader = null;
            var block = ((long)BlockFor.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    reader ??= await owner.OpenReaderAsync(topic, group);
                    var entries = ParseReadGroup(await reader.ExecuteAsync(
                        "XREADGROUP", "GROUP", group, group, "COUNT", Settings.QueueDepth, "BLOCK", block, "STREAMS", topic, ">"));
                    if (entries.Length == 0)
                    {
                        continue;
                    }

                    foreach (var e in entries)
                    {
                        _local[e.Id!] = 0;
                        await _queue.Writer.WriteAsync(e, stopping);
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
                {
                    await Retry(() => owner.EnsureGroupAsync(topic, group), "recreate consumer group");
                }
                catch (RedisTimeoutException e) when (!stopping.IsCancellationRequested)
                {
                    // The process was paused or starved for longer than the client's timeout while a blocking read
                    // waited. Read again at once; entries that reply may have carried stay pending in the group and are
                    // redelivered after processingTimeout, as after any lost reply.
                    PubSubLog.RedisLoopError(owner.LogFor, e, topic, group, "XREADGROUP");
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    // Whatever went wrong, the read loop must not die: it is the only reader of this subscription.
                    PubSubLog.RedisLoopError(owner.LogFor, e, topic, group, "XREADGROUP");
                    await Pause();
                }
            }
        }

        private async Task WorkerAsync()
        {
            try
            {
                await foreach (var entry in _queue.Reader.ReadAllAsync(stopping))
                {
                    try
                    {
                        await ProcessAsync(entry);
                    }
                    finally
                    {
                        _local.TryRemove(entry.Id!, out _);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
        }

        private async Task ProcessAsync(StreamEntry entry)
        {
            var id = entry.Id.ToString();
            var data = entry["data"];
            if (data.IsNull)
            {
                PubSubLog.NoDataField(owner.LogFor, topic, id);
                await AckAsync(id);
                return;
            }

            var metadata = Metadata(entry);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            if (Settings.ProcessingTimeout > TimeSpan.Zero)
            {
                cts.CancelAfter(Settings.ProcessingTimeout);
            }

            try
            {
                await Handler!(new BrokerMessage(topic, (byte[])data!, metadata), cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                // Cancelled or timed out: no XACK, so the redelivery loop (or a restarted sidecar) picks it up.
                PubSubLog.LeftPending(owner.LogFor, topic, id);
                return;
            }
            catch (Exception e)
            {
                PubSubLog.HandlerFailed(owner.LogFor, e, topic, id);
            }

            await AckAsync(id);
        }

        private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

        private static IReadOnlyDictionary<string, string> Metadata(StreamEntry entry)
        {
            if (entry["metadata"] is { IsNullOrEmpty: false } m)
            {
                try
                {
                    return JsonSerializer.Deserialize<Dictionary<string, string>>(m.ToString()) ?? NoMetadata;
                }
                catch (JsonException)
                {
                }
            }

            return NoMetadata;
        }

        /// <summary>
        /// Fills a batch (up to MaxMessages, waiting at most MaxAwait after its first message), then hands it to
        /// the handler while the next one fills; one XACK per batch for what the handler settled.
        /// </summary>
        private async Task BatchLoopAsync()
        {
            var mode = Batches!;
            using var slots = new SemaphoreSlim(mode.InFlight, mode.InFlight);
            var reader = _queue.Reader;
            try
            {
                while (await reader.WaitToReadAsync(stopping))
                {
                    var batch = new List<StreamEntry>(mode.MaxMessages);
                    while (batch.Count < mode.MaxMessages && reader.TryRead(out var e))
                    {
                        batch.Add(e);
                    }

                    if (batch.Count < mode.MaxMessages && mode.MaxAwait > TimeSpan.Zero)
                    {
                        using var window = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                        window.CancelAfter(mode.MaxAwait);
                        try
                        {
                            while (batch.Count < mode.MaxMessages && await reader.WaitToReadAsync(window.Token))
                            {
                                while (batch.Count < mode.MaxMessages && reader.TryRead(out var e))
                                {
                                    batch.Add(e);
                                }
                            }
                        }
                        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                        {
                        }
                    }

                    await slots.WaitAsync(stopping);
                    _ = Task.Run(
                        async () =>
                        {
                            try
                            {
                                await ProcessBatchAsync(batch, mode);
                            }
                            finally
                            {
                                slots.Release();
                            }
                        },
                        CancellationToken.None);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
        }

        private async Task ProcessBatchAsync(List<StreamEntry> entries, BatchMode mode)
        {
            var ids = new List<RedisValue>(entries.Count);
            var messages = new List<BrokerMessage>(entries.Count);
            var settled = new bool[entries.Count];
            var noData = new List<RedisValue>();
            foreach (var entry in entries)
            {
                var data = entry["data"];
                if (data.IsNull)
                {
                    PubSubLog.NoDataField(owner.LogFor, topic, entry.Id.ToString());
                    noData.Add(entry.Id);
                    continue;
                }

                ids.Add(entry.Id);
                messages.Add(new BrokerMessage(topic, (byte[])data!, Metadata(entry)));
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            if (Settings.ProcessingTimeout > TimeSpan.Zero)
            {
                cts.CancelAfter(Settings.ProcessingTimeout);
            }

            try
            {
                if (messages.Count > 0)
                {
                    await mode.Handler(messages, i => settled[i] = true, cts.Token);
                }
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                // Cancelled or timed out: what was not settled stays pending for the redelivery loop (or a restart).
            }
            catch (Exception e)
            {
                PubSubLog.HandlerFailed(owner.LogFor, e, topic, $"(batch of {messages.Count})");
                Array.Fill(settled, true);
            }

            var ack = new List<RedisValue>(noData);
            for (var i = 0; i < ids.Count; i++)
            {
                if (settled[i])
                {
                    ack.Add(ids[i]);
                }
            }

            if (ack.Count < ids.Count + noData.Count)
            {
                var left = $"{ids.Count + noData.Count - ack.Count} entries of a batch, from {ids[0]}";
                PubSubLog.LeftPending(owner.LogFor, topic, left);
            }

            try
            {
                if (ack.Count > 0)
                {
                    await owner.Db.StreamAcknowledgeAsync(topic, group, [.. ack]);
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                PubSubLog.RedisLoopError(owner.LogFor, e, topic, group, "XACK");
            }
            finally
            {
                foreach (var e in entries)
                {
                    _local.TryRemove(e.Id!, out _);
                }
            }
        }

        private async Task RedeliverLoopAsync()
        {
            var minIdle = (long)Settings.ProcessingTimeout.TotalMilliseconds;
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(Settings.RedeliverInterval, stopping);
                    var pending = await owner.Db.StreamPendingMessagesAsync(topic, group, Settings.QueueDepth, RedisValue.Null, "-", "+");
                    var ids = pending
                        .Where(p => p.IdleTimeInMilliseconds >= minIdle && !_local.ContainsKey(p.MessageId!))
                        .Select(p => p.MessageId)
                        .ToArray();
                    if (ids.Length == 0)
                    {
                        continue;
                    }

                    var claimed = await owner.Db.StreamClaimAsync(topic, group, group, minIdle, ids);
                    var count = 0;
                    for (var i = 0; i < claimed.Length; i++)
                    {
                        var e = claimed[i];
                        if (e.IsNull)
                        {
                            // Redis < 7 returns nil for entries trimmed away since; drop them from the PEL.
                            if (i < ids.Length)
                            {
                                await owner.Db.StreamAcknowledgeAsync(topic, group, ids[i]);
                            }

                            continue;
                        }

                        if (_local.TryAdd(e.Id!, 0))
                        {
                            count++;
                            await _queue.Writer.WriteAsync(e, stopping);
                        }
                    }

                    PubSubLog.Reclaimed(owner.LogFor, topic, group, count);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
                {
                    await Retry(() => owner.EnsureGroupAsync(topic, group), "recreate consumer group");
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    PubSubLog.RedisLoopError(owner.LogFor, e, topic, group, "XPENDING/XCLAIM");
                    await Pause();
                }
            }
        }

        private async Task AckAsync(string id)
        {
            try
            {
                await owner.Db.StreamAcknowledgeAsync(topic, group, id);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                PubSubLog.RedisLoopError(owner.LogFor, e, topic, group, "XACK");
            }
        }

        private async Task Retry(Func<Task> action, string what)
        {
            try
            {
                await action();
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                PubSubLog.RedisLoopError(owner.LogFor, e, topic, group, what);
                await Pause();
            }
        }

        private async Task Pause()
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stopping);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private ILogger LogFor => log;
}

/// <summary>The pubsub.redis metadata that shapes consumption, with components-contrib's defaults.</summary>
internal sealed record RedisStreamsSettings(
    int Db,
    int QueueDepth,
    int Concurrency,
    TimeSpan ProcessingTimeout,
    TimeSpan RedeliverInterval,
    long MaxLenApprox,
    TimeSpan StreamTtl)
{
    public static RedisStreamsSettings From(ComponentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new RedisStreamsSettings(
            Int(spec, "redisDB", 0),
            Int(spec, "queueDepth", 100),
            Int(spec, "concurrency", 10),
            MillisOrDuration(spec, "processingTimeout", TimeSpan.FromSeconds(60), allowDuration: true),
            MillisOrDuration(spec, "redeliverInterval", TimeSpan.FromSeconds(15), allowDuration: false),
            long.TryParse(spec.Get("maxLenApprox"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ml) ? ml : 0,
            spec.Get("streamTTL") is { Length: > 0 } ttl && Durations.TryParse(ttl, out var t) ? t : TimeSpan.Zero);
    }

    private static int Int(ComponentSpec spec, string key, int fallback) =>
        int.TryParse(spec.Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    /// <summary>
    /// A plain number is milliseconds. contrib accepts a duration string for processingTimeout but silently
    /// ignores one for redeliverInterval (the default stays) — reproduced so YAML behaves the same under daprd.
    /// </summary>
    private static TimeSpan MillisOrDuration(ComponentSpec spec, string key, TimeSpan fallback, bool allowDuration)
    {
        var v = spec.Get(key);
        if (string.IsNullOrWhiteSpace(v))
        {
            return fallback;
        }

        if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        return allowDuration && Durations.TryParse(v, out var d) ? d : fallback;
    }
}
