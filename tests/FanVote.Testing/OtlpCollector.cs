using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;

namespace FanVote.Testing;

/// <summary>One span as an OTLP exporter sent it: the service that made it, its ids (lower-case hex), name, kind, string attributes and links.</summary>
public sealed record ExportedSpan(
    string Service,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    int Kind,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<string> LinkedTraceIds);

/// <summary>
/// A minimal OpenTelemetry collector for tests: an HTTP listener on loopback that takes OTLP/HTTP protobuf trace
/// exports (<c>POST /v1/traces</c>, the standard OTLP exporter with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>)
/// and keeps every span. It reads the protobuf wire format itself (only the fields of
/// opentelemetry/proto/trace/v1/trace.proto it needs), so no generated code or package is involved.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ExportedSpan> _spans = new();
    private readonly Task _loop;
    private int _requests;
    private string? _lastError;

    public OtlpCollector()
    {
        Port = Ports.Free();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    /// <summary>The base endpoint for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (the exporter adds /v1/traces).</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>The settings a process needs to export its traces here, quickly (200 ms batches).</summary>
    public Dictionary<string, string?> Environment() => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<ExportedSpan> Spans => [.. _spans];

    /// <summary>For failure messages: how many exports arrived and the last one that could not be read.</summary>
    public string Describe() => $"{_requests} export requests, {_spans.Count} spans" + (_lastError is null ? "" : $", last unreadable export: {_lastError}");

    /// <summary>Waits until <paramref name="found"/> holds for the spans received (polling), or fails with <paramref name="what"/> and what was seen.</summary>
    public async Task<T> WaitForAsync<T>(Func<IReadOnlyList<ExportedSpan>, T?> found, string what, TimeSpan timeout)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (found(Spans) is { } result)
            {
                return result;
            }

            if (DateTime.UtcNow > deadline)
            {
                var seen = string.Join("\n  ", Spans.Select(s => $"{s.Service} {s.Name} trace={s.TraceId} parent={s.ParentSpanId}"));
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}; {Describe()}:\n  {seen}");
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                using var body = new MemoryStream();
                var input = string.Equals(ctx.Request.Headers["Content-Encoding"], "gzip", StringComparison.OrdinalIgnoreCase)
                    ? new GZipStream(ctx.Request.InputStream, CompressionMode.Decompress)
                    : ctx.Request.InputStream;
                await input.CopyToAsync(body);
                Interlocked.Increment(ref _requests);
                if (ctx.Request.Url?.AbsolutePath == "/v1/traces")
                {
                    foreach (var s in Decode(body.ToArray()))
                    {
                        _spans.Enqueue(s);
                    }
                }

                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "application/x-protobuf";
            }
            catch (Exception e) when (e is FormatException or IOException or InvalidDataException)
            {
                _lastError = e.Message;
                ctx.Response.StatusCode = 400;
            }

            ctx.Response.Close();
        }
    }

    /// <summary>Reads an ExportTraceServiceRequest: resource_spans(1) → resource(1).attributes(1), scope_spans(2) → spans(2).</summary>
    public static List<ExportedSpan> Decode(ReadOnlySpan<byte> request)
    {
        var result = new List<ExportedSpan>();
        var r = new Wire(request.ToArray());
        while (r.Next(out var field, out var type))
        {
            if (field == 1 && type == 2)
            {
                ReadResourceSpans(r.Bytes(), result);
            }
            else
            {
                r.Skip(type);
            }
        }

        return result;
    }

    private static void ReadResourceSpans(byte[] message, List<ExportedSpan> into)
    {
        var service = "";
        var scopeSpans = new List<byte[]>();
        var r = new Wire(message);
        while (r.Next(out var field, out var type))
        {
            if (field == 1 && type == 2)
            {
                var resource = new Wire(r.Bytes());
                while (resource.Next(out var f, out var t))
                {
                    if (f == 1 && t == 2 && ReadKeyValue(resource.Bytes()) is ("service.name", var name))
                    {
                        service = name;
                    }
                    else if (f != 1 || t != 2)
                    {
                        resource.Skip(t);
                    }
                }
            }
            else if (field == 2 && type == 2)
            {
                scopeSpans.Add(r.Bytes());
            }
            else
            {
                r.Skip(type);
            }
        }

        foreach (var scope in scopeSpans)
        {
            var s = new Wire(scope);
            while (s.Next(out var field, out var type))
            {
                if (field == 2 && type == 2)
                {
                    into.Add(ReadSpan(service, s.Bytes()));
                }
                else
                {
                    s.Skip(type);
                }
            }
        }
    }

    /// <summary>Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, attributes 9, links 13 (Link: trace_id 1).</summary>
    private static ExportedSpan ReadSpan(string service, byte[] message)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var links = new List<string>();
        var r = new Wire(message);
        while (r.Next(out var field, out var type))
        {
            switch (field, type)
            {
                case (1, 2): traceId = Convert.ToHexStringLower(r.Bytes()); break;
                case (2, 2): spanId = Convert.ToHexStringLower(r.Bytes()); break;
                case (4, 2): parent = Convert.ToHexStringLower(r.Bytes()); break;
                case (5, 2): name = Encoding.UTF8.GetString(r.Bytes()); break;
                case (6, 0): kind = (int)r.Varint(); break;
                case (9, 2):
                    if (ReadKeyValue(r.Bytes()) is var (k, v))
                    {
                        attributes[k] = v;
                    }

                    break;
                case (13, 2):
                    var link = new Wire(r.Bytes());
                    while (link.Next(out var f, out var t))
                    {
                        if (f == 1 && t == 2)
                        {
                            links.Add(Convert.ToHexStringLower(link.Bytes()));
                        }
                        else
                        {
                            link.Skip(t);
                        }
                    }

                    break;
                default: r.Skip(type); break;
            }
        }

        return new ExportedSpan(service, traceId, spanId, parent, name, kind, attributes, links);
    }

    /// <summary>KeyValue: key 1, value 2 (AnyValue: string 1, bool 2, int 3, double 4); other value kinds read as "".</summary>
    private static (string Key, string Value)? ReadKeyValue(byte[] message)
    {
        string key = "", value = "";
        var r = new Wire(message);
        while (r.Next(out var field, out var type))
        {
            if (field == 1 && type == 2)
            {
                key = Encoding.UTF8.GetString(r.Bytes());
            }
            else if (field == 2 && type == 2)
            {
                var any = new Wire(r.Bytes());
                while (any.Next(out var f, out var t))
                {
                    switch (f, t)
                    {
                        case (1, 2): value = Encoding.UTF8.GetString(any.Bytes()); break;
                        case (2, 0): value = any.Varint() != 0 ? "true" : "false"; break;
                        case (3, 0): value = ((long)any.Varint()).ToString(System.Globalization.CultureInfo.InvariantCulture); break;
                        case (4, 1): value = BitConverter.Int64BitsToDouble((long)any.Fixed64()).ToString(System.Globalization.CultureInfo.InvariantCulture); break;
                        default: any.Skip(t); break;
                    }
                }
            }
            else
            {
                r.Skip(type);
            }
        }

        return key.Length == 0 ? null : (key, value);
    }

    /// <summary>The protobuf wire format, read forward: tags, varints, fixed 32/64, length-delimited.</summary>
    private sealed class Wire(byte[] data)
    {
        private int _at;

        public bool Next(out int field, out int type)
        {
            if (_at >= data.Length)
            {
                field = type = 0;
                return false;
            }

            var tag = Varint();
            field = (int)(tag >> 3);
            type = (int)(tag & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong v = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_at >= data.Length)
                {
                    throw new FormatException("a varint runs past the end of the message");
                }

                var b = data[_at++];
                v |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return v;
                }
            }

            throw new FormatException("a varint is longer than 10 bytes");
        }

        public ulong Fixed64()
        {
            Need(8);
            var v = BitConverter.ToUInt64(data, _at);
            _at += 8;
            return v;
        }

        public byte[] Bytes()
        {
            var length = (int)Varint();
            Need(length);
            var bytes = data.AsSpan(_at, length).ToArray();
            _at += length;
            return bytes;
        }

        public void Skip(int type)
        {
            switch (type)
            {
                case 0: Varint(); break;
                case 1: Need(8); _at += 8; break;
                case 2: Bytes(); break;
                case 5: Need(4); _at += 4; break;
                default: throw new FormatException($"wire type {type} is not readable here");
            }
        }

        private void Need(int n)
        {
            if (n < 0 || _at + n > data.Length)
            {
                throw new FormatException("a field runs past the end of the message");
            }
        }
    }
}
