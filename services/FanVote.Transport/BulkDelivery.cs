using System.Text.Json;

namespace FanVote.Transport;

/// <summary>What a subscriber answers for one entry of a bulk delivery (docs/dapr-subset.md §4.3).</summary>
public enum BulkStatus
{
    /// <summary>Done with it: the sidecar acknowledges the entry.</summary>
    Success,

    /// <summary>Not now (a store is down): the sidecar delivers it again.</summary>
    Retry,

    /// <summary>Never usable: the sidecar sends it to the dead-letter topic.</summary>
    Drop,
}

/// <summary>One entry of a bulk delivery: its value, or why it cannot be read; the CloudEvent's traceparent when asked for.</summary>
public sealed record BulkEntry<T>(string EntryId, T? Value, string? Error, string? TraceParent = null)
    where T : class;

/// <summary>Reads the <c>data</c> object of one CloudEvent of a bulk delivery into a <typeparamref name="T"/>.</summary>
public interface IBulkData<T>
    where T : class
{
    /// <summary>
    /// Reads the data object (the reader is on its start and must be left on its end). Returns the value, or null with
    /// <paramref name="problem"/> saying why the entry can never be used (it is then dead-lettered, never guessed at).
    /// </summary>
    static abstract T? Read(ref Utf8JsonReader reader, out string? problem);
}

/// <summary>
/// Dapr's bulk delivery to an app: <c>{"entries":[{"entryId","event":{CloudEvent with data},...}]}</c> in, and
/// <c>{"statuses":[{"entryId","status"}]}</c> out. Read in one pass with a forward-only reader: no document is built
/// (this runs for every vote). Unknown properties are skipped.
/// </summary>
public static class BulkDelivery
{
    /// <param name="json">The delivery's body.</param>
    /// <param name="readTraceParent">Also read each CloudEvent's <c>traceparent</c> (only when tracing is on: it costs a string per entry).</param>
    /// <exception cref="JsonException">The body is not JSON or has no <c>entries</c> array.</exception>
    public static List<BulkEntry<T>> Decode<T, TData>(ReadOnlyMemory<byte> json, bool readTraceParent = false)
        where T : class
        where TData : IBulkData<T>
    {
        var r = new Utf8JsonReader(json.Span);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a bulk delivery is a JSON object with an 'entries' array");
        }

        List<BulkEntry<T>>? result = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var isEntries = r.ValueTextEquals("entries"u8);
            r.Read();
            if (!isEntries)
            {
                r.Skip();
                continue;
            }

            if (r.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException("a bulk delivery needs an 'entries' array");
            }

            result = [];
            while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            {
                if (r.TokenType != JsonTokenType.StartObject)
                {
                    r.Skip();
                    result.Add(new BulkEntry<T>("", null, "the entry is not a JSON object"));
                    continue;
                }

                result.Add(ReadEntry<T, TData>(ref r, readTraceParent));
            }
        }

        return result ?? throw new JsonException("a bulk delivery needs an 'entries' array");
    }

    /// <summary>The bulk answer the sidecar reads.</summary>
    public static byte[] EncodeStatuses(IReadOnlyList<(string EntryId, BulkStatus Status)> statuses)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(32 + (statuses.Count * 40));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("statuses");
            foreach (var (id, status) in statuses)
            {
                w.WriteStartObject();
                w.WriteString("entryId", id);
                w.WriteString("status", status switch { BulkStatus.Success => "SUCCESS", BulkStatus.Retry => "RETRY", _ => "DROP" });
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads one entry object (the reader is on its start and is left on its end).</summary>
    private static BulkEntry<T> ReadEntry<T, TData>(ref Utf8JsonReader r, bool readTraceParent)
        where T : class
        where TData : IBulkData<T>
    {
        var entryId = "";
        string? traceParent = null;
        T? value = null;
        string? error = "the entry has no CloudEvent with data";
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("entryId"u8))
            {
                r.Read();
                entryId = r.TokenType == JsonTokenType.String ? r.GetString() ?? "" : "";
                r.Skip();
            }
            else if (r.ValueTextEquals("event"u8))
            {
                r.Read();
                if (r.TokenType != JsonTokenType.StartObject)
                {
                    r.Skip();
                    continue;
                }

                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    var isData = r.ValueTextEquals("data"u8);
                    var isTrace = readTraceParent && r.ValueTextEquals("traceparent"u8);
                    r.Read();
                    if (isData && r.TokenType == JsonTokenType.StartObject)
                    {
                        value = TData.Read(ref r, out error);
                    }
                    else if (isTrace && r.TokenType == JsonTokenType.String)
                    {
                        traceParent = r.GetString();
                    }
                    else
                    {
                        r.Skip();
                    }
                }
            }
            else
            {
                r.Read();
                r.Skip();
            }
        }

        return new BulkEntry<T>(entryId, value, value is null ? error : null, traceParent);
    }
}
