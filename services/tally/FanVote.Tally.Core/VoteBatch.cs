using System.Text.Json;

namespace FanVote.Tally.Core;

/// <summary>One entry of a bulk delivery: the vote, or why it can never be stored.</summary>
public sealed record BatchEntry(string EntryId, VoteRow? Vote, string? Error);

/// <summary>
/// Decodes a bulk delivery of `votes` (`{"entries":[{"entryId","event":{CloudEvent with data = VoteAccepted}}]}`).
/// An entry that is not a vote of a schema version this code knows is reported with an error (it will be
/// dead-lettered), never guessed at.
/// </summary>
public static class VoteBatch
{
    public const int KnownSchemaVersion = 1;

    public static IReadOnlyList<BatchEntry> Decode(ReadOnlyMemory<byte> json)
    {
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("a bulk delivery needs an 'entries' array");
        }

        var result = new List<BatchEntry>(entries.GetArrayLength());
        foreach (var e in entries.EnumerateArray())
        {
            var id = e.TryGetProperty("entryId", out var i) ? i.GetString() ?? "" : "";
            result.Add(DecodeEntry(id, e));
        }

        return result;
    }

    /// <summary>The bulk answer the sidecar reads: <c>{"statuses":[{"entryId","status"}]}</c>.</summary>
    public static byte[] EncodeStatuses(IReadOnlyList<(string EntryId, string Status)> statuses)
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
                w.WriteString("status", status);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static BatchEntry DecodeEntry(string entryId, JsonElement entry)
    {
        try
        {
            if (!entry.TryGetProperty("event", out var ce) || ce.ValueKind != JsonValueKind.Object || !ce.TryGetProperty("data", out var d))
            {
                return new BatchEntry(entryId, null, "the entry has no CloudEvent with data");
            }

            var version = d.TryGetProperty("schemaVersion", out var v) && v.TryGetInt32(out var n) ? n : 1;
            if (version != KnownSchemaVersion)
            {
                return new BatchEntry(entryId, null, $"VoteAccepted schema version {version} is not known to this tally (knows {KnownSchemaVersion})");
            }

            var row = new VoteRow(
                Field(d, "voteId").GetGuid(),
                Required(d, "windowId"),
                Required(d, "candidateId"),
                Required(d, "accountId"),
                Required(d, "deviceId"),
                d.TryGetProperty("ip", out var ip) ? ip.GetString() ?? "" : "",
                Field(d, "occurredAt").GetDateTimeOffset(),
                d.TryGetProperty("accountCreatedAt", out var ac) ? ac.GetDateTimeOffset() : Field(d, "occurredAt").GetDateTimeOffset());
            return new BatchEntry(entryId, row, null);
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or InvalidOperationException or JsonException)
        {
            return new BatchEntry(entryId, null, $"not a VoteAccepted: {e.Message}");
        }
    }

    private static string Required(JsonElement d, string name) =>
        Field(d, name).GetString() is { Length: > 0 } s ? s : throw new FormatException($"{name} is empty");

    private static JsonElement Field(JsonElement d, string name) =>
        d.TryGetProperty(name, out var v) ? v : throw new FormatException($"{name} is missing");
}
