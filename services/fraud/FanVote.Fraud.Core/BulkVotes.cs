using System.Text.Json;

namespace FanVote.Fraud.Core;

/// <summary>One entry of a bulk delivery: the vote, or why it cannot be read.</summary>
public readonly record struct BulkVote(string EntryId, VoteInput Vote, string? Error);

/// <summary>
/// Reads a bulk delivery of <c>votes</c> (<c>{"entries":[{"entryId","event":{CloudEvent, data = VoteAccepted}}]}</c>) into
/// the extractor's input. An entry of an unknown schema version or with a field missing is reported, never guessed at.
/// </summary>
public static class BulkVotes
{
    public const int KnownSchemaVersion = 1;

    public static List<BulkVote> Decode(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var doc = JsonDocument.ParseValue(ref reader);
        if (!doc.RootElement.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("a bulk delivery needs an 'entries' array");
        }

        var result = new List<BulkVote>(entries.GetArrayLength());
        foreach (var e in entries.EnumerateArray())
        {
            var id = e.TryGetProperty("entryId", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : "";
            result.Add(DecodeEntry(id, e));
        }

        return result;
    }

    private static BulkVote DecodeEntry(string entryId, JsonElement entry)
    {
        try
        {
            if (!entry.TryGetProperty("event", out var ce) || ce.ValueKind != JsonValueKind.Object || !ce.TryGetProperty("data", out var d) || d.ValueKind != JsonValueKind.Object)
            {
                return new BulkVote(entryId, default, "the entry has no CloudEvent with a JSON object as data");
            }

            var version = d.TryGetProperty("schemaVersion", out var v) && v.TryGetInt32(out var n) ? n : 1;
            if (version != KnownSchemaVersion)
            {
                return new BulkVote(entryId, default, $"VoteAccepted schema version {version} is not known to this fraud service (knows {KnownSchemaVersion})");
            }

            var accepted = Field(d, "occurredAt").GetDateTimeOffset().ToUnixTimeMilliseconds();
            var vote = new VoteInput(
                Field(d, "voteId").GetGuid(),
                Text(d, "windowId"),
                Text(d, "candidateId"),
                Text(d, "accountId"),
                Text(d, "deviceId"),
                d.TryGetProperty("ip", out var ip) && ip.ValueKind == JsonValueKind.String ? ip.GetString()! : "",
                accepted,
                d.TryGetProperty("accountCreatedAt", out var ac) ? ac.GetDateTimeOffset().ToUnixTimeMilliseconds() : accepted);
            return new BulkVote(entryId, vote, null);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or JsonException)
        {
            return new BulkVote(entryId, default, $"not a VoteAccepted: {e.Message}");
        }
    }

    private static string Text(JsonElement d, string name) =>
        Field(d, name).GetString() is { Length: > 0 } s ? s : throw new FormatException($"{name} is empty");

    private static JsonElement Field(JsonElement d, string name) =>
        d.TryGetProperty(name, out var v) ? v : throw new FormatException($"{name} is missing");
}
