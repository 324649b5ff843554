using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using FanVote.Sidecar.Hosting;
using FanVote.Sidecar.Resiliency;

namespace FanVote.Sidecar.PubSub;

/// <summary>A delivery attempt the app did not accept; retriable under the inbound policy (status for <c>matching</c>).</summary>
public sealed class DeliveryException(string message, int? httpStatusCode = null, Exception? inner = null) : Exception(message, inner), IStatusCodeError
{
    public int? HttpStatusCode { get; } = httpStatusCode;

    public int? GrpcStatusCode => null;
}

/// <summary>
/// Delivers the messages of one subscription to the app exactly as daprd does (docs/dapr-subset.md §4.2, §4.3):
/// envelope checks, routing, the app-answer table, inbound resiliency, dead-lettering. The returned task
/// completes normally whenever the broker should ack (success, drop, dead-lettered, or lost after the policy
/// gave up); it throws only when <c>cancellationToken</c> fires, so the component leaves the message pending.
/// </summary>
#pragma warning disable CA1001 // One per subscription, alive as long as the sidecar process: nothing to release early.
public sealed class SubscriptionDelivery
#pragma warning restore CA1001
{
    private static readonly MediaTypeHeaderValue CloudEventsMedia = new(CloudEvents.CloudEventsContentType);
    private static readonly MediaTypeHeaderValue JsonMedia = new("application/json");

    private readonly CompiledSubscription _sub;
    private readonly IPubSub _pubsub;
    private readonly AppChannel _channel;
    private readonly ResiliencyPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Channel<Pending>? _batch;
    private readonly SemaphoreSlim _batchesInFlight = new(MaxBatchesInFlight, MaxBatchesInFlight);

    /// <summary>Bulk batches of one subscription delivered to the app at the same time.</summary>
    public const int MaxBatchesInFlight = 4;

    /// <param name="brokerBatches">The component hands this bulk subscription whole batches (<see cref="HandleBatchAsync"/>), so no batching happens here.</param>
    public SubscriptionDelivery(CompiledSubscription sub, IPubSub pubsub, AppChannel channel, ResiliencyPolicy inbound, TimeProvider time, ILogger log, CancellationToken stopping, bool brokerBatches = false)
    {
        ArgumentNullException.ThrowIfNull(sub);
        _sub = sub;
        _pubsub = pubsub;
        _channel = channel;
        _policy = inbound;
        _time = time;
        _log = log;
        if (sub.Bulk && !brokerBatches)
        {
            _batch = Channel.CreateUnbounded<Pending>();
            _ = Task.Run(() => BatchLoopAsync(stopping), CancellationToken.None);
        }
    }

    private string PubsubName => _sub.Spec.PubsubName;

    private string Topic => _sub.Spec.Topic;

    public async Task HandleAsync(BrokerMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_batch is not null)
        {
            var pending = new Pending(message, cancellationToken);
            await _batch.Writer.WriteAsync(pending, cancellationToken);
            await pending.Done.Task.WaitAsync(cancellationToken);
            return;
        }

        await DeliverSingleAsync(message, cancellationToken);
    }

    private async Task DeliverSingleAsync(BrokerMessage message, CancellationToken ct)
    {
        if (!TryPrepare(message, needEnvelope: true, out var p, out var error))
        {
            await UndecodableAsync(message, error!, ct);
            return;
        }

        if (CloudEvents.IsExpired(p.Expiration, _time.GetUtcNow()))
        {
            await DropAsync(p, "its expiration time has passed", ct);
            return;
        }

        var path = _sub.Route(p.Envelope!.Value);
        if (path is null)
        {
            await DropAsync(p, "no routing rule matched", ct);
            return;
        }

        Outcome outcome;
        try
        {
            outcome = await _policy.ExecuteAsync(t => PostSingleAsync(p, path, t), ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            await ExhaustedAsync(p.Message, p.Id, e, ct);
            return;
        }

        switch (outcome)
        {
            case Outcome.Drop:
                await DropAsync(p, "the app answered status DROP", ct);
                break;
            case Outcome.NotFound:
                PubSubLog.DroppedNotFound(_log, p.Id, PubsubName, Topic, path);
                await DeadLetterAsync(p.Message, p.Id, "the app answered 404", ct);
                break;
            default:
                break;
        }
    }

    private async Task<Outcome> PostSingleAsync(Prepared p, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, RoutePath(path)) { Content = new ReadOnlyMemoryContent(p.Body) };
        request.Content.Headers.ContentType = CloudEventsMedia;
        AddMetadataHeaders(request, p.Message.Metadata);
        if (CloudEvents.StringField(p.Envelope!.Value, "traceparent") is { } tp)
        {
            request.Headers.TryAddWithoutValidation("traceparent", tp);
        }

        if (CloudEvents.StringField(p.Envelope.Value, "tracestate") is { Length: > 0 } ts)
        {
            request.Headers.TryAddWithoutValidation("tracestate", ts);
        }

        HttpResponseMessage response;
        try
        {
            response = await _channel.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw Failed(p.Id, new DeliveryException($"the app could not be reached: {e.Message}", null, e));
        }

        using (response)
        {
            var code = (int)response.StatusCode;
            if (code == 404)
            {
                return Outcome.NotFound;
            }

            if (code is < 200 or > 299)
            {
                throw Failed(p.Id, new DeliveryException($"the app answered {code}", code));
            }

            var body = await response.Content.ReadAsByteArrayAsync(ct);
            var status = AppStatus(body);
            return status switch
            {
                null or "" or "SUCCESS" => Outcome.Success,
                "DROP" => Outcome.Drop,
                "RETRY" => throw Failed(p.Id, new DeliveryException("the app answered status RETRY", code)),
                _ => throw Failed(p.Id, new DeliveryException($"the app answered unknown status '{status}'", code)),
            };
        }
    }

    /// <summary>The <c>status</c> of a 2xx JSON body; null for empty/non-JSON bodies (daprd treats those as success).</summary>
    internal static string? AppStatus(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object &&
                   doc.RootElement.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString()!.ToUpperInvariant()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task BatchLoopAsync(CancellationToken stopping)
    {
        var spec = _sub.Spec.BulkSubscribe!;
        var reader = _batch!.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stopping))
            {
                var batch = new List<Pending>();
                if (!reader.TryRead(out var first))
                {
                    continue;
                }

                batch.Add(first);
                using (var window = CancellationTokenSource.CreateLinkedTokenSource(stopping))
                {
                    // The await window starts with the first message of the batch, as daprd's batcher does.
                    window.CancelAfter(TimeSpan.FromMilliseconds(spec.MaxAwaitDurationMs));
                    try
                    {
                        while (batch.Count < spec.MaxMessagesCount)
                        {
                            if (reader.TryRead(out var next))
                            {
                                batch.Add(next);
                                continue;
                            }

                            if (!await reader.WaitToReadAsync(window.Token))
                            {
                                break;
                            }
                        }
                    }
                    catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                    {
                    }
                }

                // Several batches in flight per subscription: the next one fills while the app stores this one
                // (a single outstanding batch caps a subscriber at one batch per handler round trip).
                await _batchesInFlight.WaitAsync(stopping);
                _ = Task.Run(
                    async () =>
                    {
                        try
                        {
                            await DeliverBatchAsync(batch, stopping);
                        }
                        finally
                        {
                            _batchesInFlight.Release();
                        }
                    },
                    CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverBatchAsync(List<Pending> batch, CancellationToken stopping)
    {
        // The batch runs until every message in it has been abandoned by its component (processingTimeout,
        // shutdown), so a retry-forever policy cannot pin a batch after the broker gave up on it.
        using var batchCts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var live = batch.Count;
        var registrations = batch.Select(p => p.Cancellation.Register(() =>
        {
            if (Interlocked.Decrement(ref live) == 0)
            {
                batchCts.Cancel();
            }
        })).ToList();
        try
        {
            await HandleBatchAsync([.. batch.Select(p => p.Message)], i => batch[i].Done.TrySetResult(), batchCts.Token);
        }
        catch (OperationCanceledException) when (batchCts.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var r in registrations)
            {
                await r.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Delivers one batch of a bulk subscription: envelope checks, routing, one bulk request per route with the
    /// app-answer table and the inbound policy, dead-lettering. <paramref name="settled"/> is called with the
    /// index of each message once it needs no more work (delivered, dropped, dead-lettered or lost); when
    /// <paramref name="ct"/> fires first the rest stay unsettled (the broker redelivers them).
    /// </summary>
    public async Task HandleBatchAsync(IReadOnlyList<BrokerMessage> messages, Action<int> settled, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(settled);
        var staticRoute = _sub.StaticRoute;
        var now = _time.GetUtcNow();
        var byPath = new Dictionary<string, List<BulkItem>>(StringComparer.Ordinal);
        for (var i = 0; i < messages.Count; i++)
        {
            if (!TryPrepare(messages[i], needEnvelope: staticRoute is null, out var p, out var error))
            {
                await UndecodableAsync(messages[i], error!, ct);
                settled(i);
                continue;
            }

            if (CloudEvents.IsExpired(p.Expiration, now))
            {
                await DropAsync(p, "its expiration time has passed", ct);
                settled(i);
                continue;
            }

            if ((staticRoute ?? _sub.Route(p.Envelope!.Value)) is not { } path)
            {
                await DropAsync(p, "no routing rule matched", ct);
                settled(i);
                continue;
            }

            if (!byPath.TryGetValue(path, out var list))
            {
                byPath[path] = list = [];
            }

            // Entry ids only need to be unique within the request: the index in the batch is.
            list.Add(new BulkItem(i, p, i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        foreach (var (path, items) in byPath)
        {
            await DeliverBulkGroupAsync(path, items, settled, ct);
        }
    }

    private async Task DeliverBulkGroupAsync(string path, List<BulkItem> items, Action<int> settled, CancellationToken ct)
    {
        var remaining = items;
        try
        {
            await _policy.ExecuteAsync(
                async t =>
                {
                    var (statuses, notFound) = await PostBulkAsync(path, remaining, t);
                    var failed = new List<BulkItem>();
                    foreach (var item in remaining)
                    {
                        var status = notFound ? "NOTFOUND" : statuses.GetValueOrDefault(item.EntryId) ?? "RETRY";
                        switch (status)
                        {
                            case "SUCCESS":
                                settled(item.Index);
                                break;
                            case "DROP":
                                await DropAsync(item.Prepared, "the app answered status DROP for the entry", t);
                                settled(item.Index);
                                break;
                            case "NOTFOUND":
                                PubSubLog.DroppedNotFound(_log, item.Prepared.Id, PubsubName, Topic, path);
                                await DeadLetterAsync(item.Prepared.Message, item.Prepared.Id, "the app answered 404", t);
                                settled(item.Index);
                                break;
                            default:
                                failed.Add(item);
                                break;
                        }
                    }

                    // Only the entries that failed go into the next attempt (§4.3).
                    remaining = failed;
                    if (failed.Count > 0)
                    {
                        throw new DeliveryException($"{failed.Count} of the bulk entries were not accepted by the app");
                    }
                },
                ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            foreach (var item in remaining)
            {
                await ExhaustedAsync(item.Prepared.Message, item.Prepared.Id, e, ct);
                settled(item.Index);
            }
        }
    }

    /// <summary>Posts one bulk request; returns the per-entry statuses (all RETRY when the body is not JSON) or notFound on 404.</summary>
    private async Task<(Dictionary<string, string> Statuses, bool NotFound)> PostBulkAsync(string path, List<BulkItem> items, CancellationToken ct)
    {
        // Sized for the usual envelope; the pooled buffer is returned when this delivery is done with it.
        using var buffer = new PooledBufferWriter(1024 + (items.Count * 768));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", Guid.NewGuid().ToString());
            w.WriteString("type", "com.dapr.event.sent.bulk");
            w.WriteString("topic", Topic);
            w.WriteString("pubsubname", PubsubName);
            w.WriteStartObject("metadata");
            w.WriteString("pubsubName", PubsubName);
            w.WriteEndObject();
            w.WriteStartArray("entries");
            foreach (var item in items)
            {
                w.WriteStartObject();
                w.WriteString("entryId", item.EntryId);
                if (_sub.Spec.RawPayload)
                {
                    w.WriteBase64String("event", item.Prepared.Message.Data.Span);
                }
                else
                {
                    w.WritePropertyName("event");
                    w.WriteRawValue(item.Prepared.Body.Span, skipInputValidation: true);
                }

                w.WriteStartObject("metadata");
                foreach (var (k, v) in item.Prepared.Message.Metadata)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
                w.WriteString("contentType", _sub.Spec.RawPayload ? "application/octet-stream" : CloudEvents.CloudEventsContentType);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, RoutePath(path)) { Content = new ReadOnlyMemoryContent(buffer.WrittenMemory) };
        request.Content.Headers.ContentType = JsonMedia;
        request.Headers.TryAddWithoutValidation("pubsubName", PubsubName);
        HttpResponseMessage response;
        try
        {
            response = await _channel.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new DeliveryException($"the app could not be reached: {e.Message}", null, e);
        }

        using (response)
        {
            var code = (int)response.StatusCode;
            if (code == 404)
            {
                return ([], true);
            }

            if (code is < 200 or > 299)
            {
                throw new DeliveryException($"the app answered {code} to a bulk delivery", code);
            }

            var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct));
                if (doc.RootElement.ValueKind == JsonValueKind.Object &&
                    doc.RootElement.TryGetProperty("statuses", out var arr) && arr.ValueKind == JsonValueKind.Array)
                {
                    foreach (var s in arr.EnumerateArray())
                    {
                        if (s.ValueKind == JsonValueKind.Object &&
                            s.TryGetProperty("entryId", out var id) && id.ValueKind == JsonValueKind.String &&
                            s.TryGetProperty("status", out var st) && st.ValueKind == JsonValueKind.String && st.GetString() is { Length: > 0 } status)
                        {
                            statuses[id.GetString()!] = status.ToUpperInvariant();
                        }
                    }
                }
            }
            catch (JsonException)
            {
                // Not JSON: every entry is RETRY (an empty map gives exactly that).
            }

            return (statuses, false);
        }
    }

    /// <summary>
    /// Checks the message is a CloudEvent object and reads what delivery needs. The parsed envelope is kept only
    /// when <paramref name="needEnvelope"/> (routing rules or single delivery read it); otherwise a reader scan
    /// is enough and nothing is allocated per message but the id.
    /// </summary>
    private bool TryPrepare(BrokerMessage message, bool needEnvelope, out Prepared prepared, out Exception? error)
    {
        error = null;
        var body = _sub.Spec.RawPayload
            ? CloudEvents.WrapRaw(message.Data.Span, Topic, PubsubName, message.Metadata)
            : message.Data;
        try
        {
            if (!needEnvelope)
            {
                var (id, expiration) = CloudEvents.ScanEnvelope(body.Span);
                prepared = new Prepared(message, body, null, id ?? "(no id)", expiration);
                return true;
            }

            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("the message is JSON but not a JSON object");
            }

            var envelope = doc.RootElement.Clone();
            prepared = new Prepared(message, body, envelope, CloudEvents.StringField(envelope, "id") ?? "(no id)", CloudEvents.StringField(envelope, "expiration"));
            return true;
        }
        catch (JsonException e)
        {
            prepared = null!;
            error = e;
            return false;
        }
    }

    private async Task UndecodableAsync(BrokerMessage message, Exception error, CancellationToken ct)
    {
        if (_sub.Spec.DeadLetterTopic is null)
        {
            PubSubLog.Undecodable(_log, error, PubsubName, Topic);
            return;
        }

        await DeadLetterAsync(message, "(undecodable)", "it is not a valid CloudEvent", ct);
    }

    private async Task DropAsync(Prepared p, string reason, CancellationToken ct)
    {
        PubSubLog.Dropped(_log, p.Id, PubsubName, Topic, reason);
        await DeadLetterAsync(p.Message, p.Id, reason, ct);
    }

    private async Task ExhaustedAsync(BrokerMessage message, string id, Exception error, CancellationToken ct)
    {
        if (_sub.Spec.DeadLetterTopic is null)
        {
            PubSubLog.MessageLost(_log, error, id, PubsubName, Topic);
            return;
        }

        await DeadLetterAsync(message, id, $"retries exhausted ({error.Message})", ct);
    }

    private async Task DeadLetterAsync(BrokerMessage message, string id, string reason, CancellationToken ct)
    {
        if (_sub.Spec.DeadLetterTopic is not { } dlq)
        {
            return;
        }

        try
        {
            await _pubsub.PublishAsync(dlq, message.Data, message.Metadata, ct);
            PubSubLog.DeadLettered(_log, id, PubsubName, Topic, dlq, reason);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            PubSubLog.DeadLetterFailed(_log, e, id, PubsubName, Topic, dlq);
        }
    }

    private DeliveryException Failed(string id, DeliveryException e)
    {
        PubSubLog.DeliveryFailed(_log, id, PubsubName, Topic, e.Message);
        return e;
    }

    private void AddMetadataHeaders(HttpRequestMessage request, IReadOnlyDictionary<string, string> metadata)
    {
        foreach (var (k, v) in metadata)
        {
            if (!k.Equals("content-length", StringComparison.OrdinalIgnoreCase) && IsHeaderSafe(k) && IsHeaderSafe(v))
            {
                request.Headers.TryAddWithoutValidation(k, v);
            }
        }

        request.Headers.Remove("pubsubName");
        request.Headers.TryAddWithoutValidation("pubsubName", PubsubName);
    }

    private static bool IsHeaderSafe(string s) => s.All(c => c is >= ' ' and < (char)127);

    private static string RoutePath(string path) => "/" + path.TrimStart('/');

    private enum Outcome
    {
        Success,
        Drop,
        NotFound,
    }

    private sealed record Prepared(BrokerMessage Message, ReadOnlyMemory<byte> Body, JsonElement? Envelope, string Id, string? Expiration);

    private sealed record BulkItem(int Index, Prepared Prepared, string EntryId);

    private sealed class Pending(BrokerMessage message, CancellationToken cancellation)
    {
        public BrokerMessage Message { get; } = message;

        public CancellationToken Cancellation { get; } = cancellation;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
