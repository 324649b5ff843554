using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FanVote.Sidecar.PubSub;

/// <summary>A publish request could not be turned into a message (bad CloudEvent JSON, bad ttlInSeconds).</summary>
public sealed class CloudEventException(string message) : Exception(message);

/// <summary>Who publishes where, and the trace context of the publish call.</summary>
public sealed record PublishContext(string AppId, string PubsubName, string Topic, string? TraceParent, string? TraceState, DateTimeOffset Now)
{
    /// <summary><see cref="Now"/> as the envelope's <c>time</c>, formatted once for every entry of a bulk publish.</summary>
    public string Time { get; } = CloudEvents.Rfc3339(Now);
}

/// <summary>
/// The CloudEvent envelope daprd builds on publish (docs/dapr-subset.md §5) and the helpers delivery needs (§4.2):
/// raw-payload wrapping, expiration and route-matching input.
/// </summary>
public static class CloudEvents
{
    public const string CloudEventsContentType = "application/cloudevents+json";
    public const string DefaultType = "com.dapr.event.sent";
    private const string CePrefix = "cloudevent.";

    /// <summary>The bytes to store in the broker and the message metadata to store beside them.</summary>
    public static (byte[] Data, IReadOnlyDictionary<string, string> Metadata) Build(
        ReadOnlySpan<byte> data, string? contentType, IReadOnlyDictionary<string, string> metadata, PublishContext ctx)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(ctx);
        var expiration = Expiration(metadata, ctx.Now);
        var traceparent = Meta(metadata, "traceparent") ?? Meta(metadata, "traceid") ?? ChildTraceParent(ctx.TraceParent);
        var tracestate = Meta(metadata, "tracestate") ?? ctx.TraceState ?? "";

        if (IsTrue(metadata, "rawPayload"))
        {
            // Raw payloads are stored untouched; the trace context travels in the message metadata instead.
            var outMeta = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
            outMeta.TryAdd("traceid", traceparent);
            outMeta.TryAdd("traceparent", traceparent);
            if (tracestate.Length > 0)
            {
                outMeta.TryAdd("tracestate", tracestate);
            }

            return (data.ToArray(), outMeta);
        }

        var mediaType = MediaType(contentType);
        if (mediaType == CloudEventsContentType)
        {
            return (Passthrough(data, ctx, traceparent, tracestate, expiration), metadata);
        }

        var buffer = new ArrayBufferWriter<byte>(data.Length + 512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id"u8, Meta(metadata, "id") ?? NewEventId());
            w.WriteString("source"u8, Meta(metadata, "source") ?? ctx.AppId);
            w.WriteString("type"u8, Meta(metadata, "type") ?? DefaultType);
            w.WriteString("specversion"u8, "1.0"u8);
            w.WriteString("datacontenttype"u8, string.IsNullOrEmpty(contentType) ? "text/plain" : contentType);
            if (!data.IsEmpty)
            {
                WriteData(w, data, mediaType);
            }

            w.WriteString("topic"u8, ctx.Topic);
            w.WriteString("pubsubname"u8, ctx.PubsubName);
            w.WriteString("traceid"u8, traceparent);
            w.WriteString("traceparent"u8, traceparent);
            w.WriteString("tracestate"u8, tracestate);
            w.WriteString("time"u8, ctx.Time);
            if (Meta(metadata, "subject") is { } subject)
            {
                w.WriteString("subject"u8, subject);
            }

            if (expiration is { } exp)
            {
                w.WriteString("expiration"u8, exp);
            }

            w.WriteEndObject();
        }

        return (buffer.WrittenSpan.ToArray(), metadata);
    }

    /// <summary>The CloudEvent daprd hands a rawPayload subscription (§4.2 step 1).</summary>
    public static byte[] WrapRaw(ReadOnlySpan<byte> raw, string topic, string pubsubName, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var buffer = new ArrayBufferWriter<byte>(raw.Length * 4 / 3 + 512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", Guid.NewGuid().ToString());
            w.WriteString("specversion", "1.0");
            w.WriteString("datacontenttype", "application/octet-stream");
            w.WriteString("source", "Dapr");
            w.WriteString("type", DefaultType);
            w.WriteString("topic", topic);
            w.WriteString("pubsubname", pubsubName);
            w.WriteBase64String("data_base64", raw);
            foreach (var k in new[] { "traceid", "traceparent", "tracestate" })
            {
                if (metadata.TryGetValue(k, out var v))
                {
                    w.WriteString(k, v);
                }
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>True when the envelope has an RFC3339 <c>expiration</c> that is not after <paramref name="now"/>.</summary>
    public static bool IsExpired(JsonElement envelope, DateTimeOffset now) =>
        envelope.ValueKind == JsonValueKind.Object &&
        envelope.TryGetProperty("expiration", out var e) && e.ValueKind == JsonValueKind.String &&
        IsExpired(e.GetString(), now);

    /// <summary>True when <paramref name="expiration"/> is an RFC3339 time that is not after <paramref name="now"/>.</summary>
    public static bool IsExpired(string? expiration, DateTimeOffset now) =>
        expiration is not null &&
        DateTimeOffset.TryParse(expiration, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) &&
        at <= now;

    /// <summary>
    /// Checks that <paramref name="json"/> is one JSON object and reads its top-level <c>id</c> and
    /// <c>expiration</c> without building a document: what delivery needs when routing does not read the event.
    /// </summary>
    /// <exception cref="JsonException">The bytes are not a single JSON object.</exception>
    public static (string? Id, string? Expiration) ScanEnvelope(ReadOnlySpan<byte> json)
    {
        var r = new Utf8JsonReader(json);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("the message is JSON but not a JSON object");
        }

        string? id = null, expiration = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var isId = r.ValueTextEquals("id"u8);
            var isExpiration = !isId && r.ValueTextEquals("expiration"u8);
            r.Read();
            if (r.TokenType == JsonTokenType.String && (isId || isExpiration))
            {
                if (isId)
                {
                    id = r.GetString();
                }
                else
                {
                    expiration = r.GetString();
                }
            }
            else
            {
                r.Skip();
            }
        }

        // Anything after the closing brace (a second value) makes the reader throw, as JsonDocument.Parse would.
        if (r.TokenType != JsonTokenType.EndObject || r.Read())
        {
            throw new JsonException("the message is not a single JSON object");
        }

        return (id, expiration);
    }

    public static string? StringField(JsonElement envelope, string name) =>
        envelope.ValueKind == JsonValueKind.Object && envelope.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>"application/json; charset=utf-8" → "application/json".</summary>
    public static string MediaType(string? contentType) =>
        (contentType ?? "").Split(';')[0].Trim().ToLowerInvariant();

    public static bool IsJsonMediaType(string mediaType) =>
        mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal);

    private static void WriteData(Utf8JsonWriter w, ReadOnlySpan<byte> data, string mediaType)
    {
        if (IsJsonMediaType(mediaType))
        {
            // Validated with a reader (no document allocated); the raw text is copied so numbers keep their exact digits.
            var reader = new Utf8JsonReader(data);
            try
            {
                if (reader.Read() && reader.TrySkip() &&
                    (reader.BytesConsumed == data.Length || IsTrailingWhitespace(data[(int)reader.BytesConsumed..])))
                {
                    w.WritePropertyName("data"u8);
                    w.WriteRawValue(data, skipInputValidation: true);
                    return;
                }
            }
            catch (JsonException)
            {
            }

            w.WriteString("data", Encoding.UTF8.GetString(data));
            return;
        }

        if (mediaType is "application/octet-stream" or "application/cloudevents+protobuf")
        {
            w.WriteBase64String("data_base64", data);
            return;
        }

        w.WriteString("data", Encoding.UTF8.GetString(data));
    }

    private static bool IsTrailingWhitespace(ReadOnlySpan<byte> rest)
    {
        foreach (var b in rest)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    private static byte[] Passthrough(ReadOnlySpan<byte> data, PublishContext ctx, string traceparent, string tracestate, string? expiration)
    {
        JsonObject ce;
        try
        {
            ce = JsonNode.Parse(data) as JsonObject ?? throw new CloudEventException("the application/cloudevents+json payload is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CloudEventException($"the application/cloudevents+json payload is not valid JSON: {e.Message}");
        }

        ce.TryAdd("time", Rfc3339(ctx.Now));
        if (!ce.ContainsKey("traceid"))
        {
            ce["traceid"] = traceparent;
            ce["traceparent"] = traceparent;
        }

        ce.TryAdd("tracestate", tracestate);
        ce["topic"] = ctx.Topic;
        ce["pubsubname"] = ctx.PubsubName;
        ce.TryAdd("source", "Dapr");
        ce.TryAdd("type", DefaultType);
        ce.TryAdd("specversion", "1.0");
        if (expiration is not null)
        {
            ce["expiration"] = expiration;
        }

        return JsonSerializer.SerializeToUtf8Bytes(ce, JsonSerializerOptions.Default);
    }

    private static string? Expiration(IReadOnlyDictionary<string, string> metadata, DateTimeOffset now)
    {
        if (!metadata.TryGetValue("ttlInSeconds", out var ttl) || string.IsNullOrWhiteSpace(ttl))
        {
            return null;
        }

        if (!long.TryParse(ttl, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) || seconds < 0)
        {
            throw new CloudEventException($"metadata ttlInSeconds '{ttl}' is not a non-negative whole number of seconds");
        }

        return Rfc3339(now.AddSeconds(seconds));
    }

    private static string? Meta(IReadOnlyDictionary<string, string> metadata, string ceField) =>
        metadata.TryGetValue(CePrefix + ceField, out var v) && v.Length > 0 ? v : null;

    private static bool IsTrue(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var v) && bool.TryParse(v, out var b) && b;

    /// <summary>A W3C traceparent for the publish span: a child of the caller's trace, or a new trace.</summary>
    /// <remarks>
    /// Trace and span ids need to be unique, not secret (W3C Trace Context), so they come from the fast shared
    /// generator rather than the cryptographic one, which costs a library call per id on every published message.
    /// </remarks>
    private static string ChildTraceParent(string? parent)
    {
        Span<byte> span = stackalloc byte[8];
        Random.Shared.NextBytes(span);
        var spanId = Convert.ToHexStringLower(span);
        var parts = parent?.Split('-');
        if (parts is { Length: 4 } && parts[1].Length == 32 && parts[2].Length == 16)
        {
            return $"00-{parts[1]}-{spanId}-{parts[3]}";
        }

        Span<byte> trace = stackalloc byte[16];
        Random.Shared.NextBytes(trace);
        return $"00-{Convert.ToHexStringLower(trace)}-{spanId}-01";
    }

    /// <summary>A random (version 4) UUID for an envelope id, from the fast generator: ids must be unique, not secret.</summary>
    private static string NewEventId()
    {
        Span<byte> b = stackalloc byte[16];
        Random.Shared.NextBytes(b);
        b[6] = (byte)((b[6] & 0x0F) | 0x40);
        b[8] = (byte)((b[8] & 0x3F) | 0x80);
        return new Guid(b, bigEndian: true).ToString();
    }
}
