using System.Text.Json;

namespace FanVote.Contracts;

/// <summary>
/// One accepted vote as read from the <c>votes</c> topic: every field of <see cref="Events.VoteAccepted"/>, with its
/// acceptance time (the event's <c>occurredAt</c>).
/// </summary>
/// <param name="VoteId">The vote id, the ledger's primary key.</param>
/// <param name="WindowId">The voting window.</param>
/// <param name="CandidateId">The chosen candidate.</param>
/// <param name="AccountId">The signed-in account.</param>
/// <param name="DeviceId">The device id the client sent.</param>
/// <param name="Ip">The client address ingress saw ("" when unknown).</param>
/// <param name="AcceptedAt">When ingress accepted it.</param>
/// <param name="AccountCreatedAt">When the account was created (the acceptance time when the event does not say).</param>
public sealed record AcceptedVote(
    Guid VoteId,
    string WindowId,
    string CandidateId,
    string AccountId,
    string DeviceId,
    string Ip,
    DateTimeOffset AcceptedAt,
    DateTimeOffset AccountCreatedAt);

/// <summary>One entry of a bulk delivery of <c>votes</c>: the vote, or why it can never be used.</summary>
/// <param name="EntryId">The bulk entry id, echoed in the answer's statuses.</param>
/// <param name="Vote">The vote, when the entry is one.</param>
/// <param name="Error">Why the entry is not a usable vote (it is to be dead-lettered).</param>
public sealed record DeliveredVote(string EntryId, AcceptedVote? Vote, string? Error);

/// <summary>
/// Decodes a bulk delivery of `votes` (`{"entries":[{"entryId","event":{CloudEvent with data = VoteAccepted}}]}`) for
/// every subscriber of the topic (tally, fraud). An entry that is not a vote of a schema version this code knows is
/// reported with an error (it will be dead-lettered), never guessed at.
/// </summary>
public static class VoteDelivery
{
    /// <summary>The <see cref="Events.VoteAccepted"/> schema version this code reads.</summary>
    public const int KnownSchemaVersion = Events.VoteAccepted.CurrentSchemaVersion;

    /// <summary>
    /// Reads the bulk body in one pass with a forward-only reader (no document is built: this runs for every
    /// vote). Unknown properties are skipped; an entry that is not a usable vote is reported with its reason.
    /// </summary>
    /// <param name="json">The request body the sidecar delivered.</param>
    /// <param name="reader">Who reads it ("tally", "fraud service"), named in the error of an unknown schema version.</param>
    /// <exception cref="JsonException">The body is not JSON or has no <c>entries</c> array.</exception>
    public static IReadOnlyList<DeliveredVote> Decode(ReadOnlyMemory<byte> json, string reader)
    {
        var r = new Utf8JsonReader(json.Span);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a bulk delivery is a JSON object with an 'entries' array");
        }

        List<DeliveredVote>? result = null;
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
                    result.Add(new DeliveredVote("", null, "the entry is not a JSON object"));
                    continue;
                }

                result.Add(ReadEntry(ref r, reader));
            }
        }

        return result ?? throw new JsonException("a bulk delivery needs an 'entries' array");
    }

    /// <summary>The bulk answer the sidecar reads: <c>{"statuses":[{"entryId","status"}]}</c>.</summary>
    /// <param name="statuses">Each entry's id and its status (SUCCESS, RETRY or DROP).</param>
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

    /// <summary>Reads one entry object (the reader is on its start and is left on its end).</summary>
    private static DeliveredVote ReadEntry(ref Utf8JsonReader r, string reader)
    {
        var entryId = "";
        var vote = new VoteFields();
        var hasData = false;
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
                if (r.TokenType == JsonTokenType.StartObject)
                {
                    hasData |= ReadEvent(ref r, vote);
                }
                else
                {
                    r.Skip();
                }
            }
            else
            {
                r.Read();
                r.Skip();
            }
        }

        if (!hasData)
        {
            return new DeliveredVote(entryId, null, "the entry has no CloudEvent with data");
        }

        if (vote.SchemaVersion != KnownSchemaVersion)
        {
            return new DeliveredVote(entryId, null, $"VoteAccepted schema version {vote.SchemaVersion} is not known to this {reader} (knows {KnownSchemaVersion})");
        }

        var missing = vote.VoteId is null ? "voteId" : vote.OccurredAt is null ? "occurredAt"
            : string.IsNullOrEmpty(vote.WindowId) ? "windowId" : string.IsNullOrEmpty(vote.CandidateId) ? "candidateId"
            : string.IsNullOrEmpty(vote.AccountId) ? "accountId" : string.IsNullOrEmpty(vote.DeviceId) ? "deviceId"
            : null;
        if (missing is not null || vote.Bad is not null)
        {
            return new DeliveredVote(entryId, null, $"not a VoteAccepted: {vote.Bad ?? missing} is missing, empty or malformed");
        }

        return new DeliveredVote(entryId, new AcceptedVote(
            vote.VoteId!.Value, vote.WindowId!, vote.CandidateId!, vote.AccountId!, vote.DeviceId!, vote.Ip ?? "",
            vote.OccurredAt!.Value, vote.AccountCreatedAt ?? vote.OccurredAt!.Value), null);
    }

    /// <summary>Reads a CloudEvent object; true when it had a <c>data</c> object (its fields go into <paramref name="vote"/>).</summary>
    private static bool ReadEvent(ref Utf8JsonReader r, VoteFields vote)
    {
        var hasData = false;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var isData = r.ValueTextEquals("data"u8);
            r.Read();
            if (isData && r.TokenType == JsonTokenType.StartObject)
            {
                hasData = true;
                ReadData(ref r, vote);
            }
            else
            {
                r.Skip();
            }
        }

        return hasData;
    }

    private static void ReadData(ref Utf8JsonReader r, VoteFields v)
    {
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var field = Field(ref r);
            r.Read();
            var isString = r.TokenType == JsonTokenType.String;
            switch (field)
            {
                case DataField.VoteId:
                    v.VoteId = isString && r.TryGetGuid(out var id) ? id : null;
                    v.Bad ??= v.VoteId is null ? "voteId" : null;
                    break;
                case DataField.OccurredAt:
                    v.OccurredAt = isString && r.TryGetDateTimeOffset(out var at) ? at : null;
                    v.Bad ??= v.OccurredAt is null ? "occurredAt" : null;
                    break;
                case DataField.AccountCreatedAt:
                    // Optional (absent: the account is as old as the vote), but never guessed at when malformed.
                    v.AccountCreatedAt = isString && r.TryGetDateTimeOffset(out var created) ? created : null;
                    v.Bad ??= v.AccountCreatedAt is null ? "accountCreatedAt" : null;
                    break;
                case DataField.SchemaVersion:
                    v.SchemaVersion = r.TokenType == JsonTokenType.Number && r.TryGetInt32(out var version) ? version : 1;
                    break;
                case DataField.WindowId:
                    v.WindowId = isString ? r.GetString() : null;
                    break;
                case DataField.CandidateId:
                    v.CandidateId = isString ? r.GetString() : null;
                    break;
                case DataField.AccountId:
                    v.AccountId = isString ? r.GetString() : null;
                    break;
                case DataField.DeviceId:
                    v.DeviceId = isString ? r.GetString() : null;
                    break;
                case DataField.Ip:
                    v.Ip = isString ? r.GetString() : null;
                    break;
                default:
                    break;
            }

            r.Skip();
        }
    }

    private static DataField Field(ref Utf8JsonReader r) =>
        r.ValueTextEquals("voteId"u8) ? DataField.VoteId
        : r.ValueTextEquals("windowId"u8) ? DataField.WindowId
        : r.ValueTextEquals("candidateId"u8) ? DataField.CandidateId
        : r.ValueTextEquals("accountId"u8) ? DataField.AccountId
        : r.ValueTextEquals("deviceId"u8) ? DataField.DeviceId
        : r.ValueTextEquals("ip"u8) ? DataField.Ip
        : r.ValueTextEquals("occurredAt"u8) ? DataField.OccurredAt
        : r.ValueTextEquals("accountCreatedAt"u8) ? DataField.AccountCreatedAt
        : r.ValueTextEquals("schemaVersion"u8) ? DataField.SchemaVersion
        : DataField.Other;

    private enum DataField
    {
        Other,
        VoteId,
        WindowId,
        CandidateId,
        AccountId,
        DeviceId,
        Ip,
        OccurredAt,
        AccountCreatedAt,
        SchemaVersion,
    }

    private sealed class VoteFields
    {
        public Guid? VoteId { get; set; }

        public string? WindowId { get; set; }

        public string? CandidateId { get; set; }

        public string? AccountId { get; set; }

        public string? DeviceId { get; set; }

        public string? Ip { get; set; }

        public DateTimeOffset? OccurredAt { get; set; }

        public DateTimeOffset? AccountCreatedAt { get; set; }

        public int SchemaVersion { get; set; } = 1;

        /// <summary>The first field present with a value of the wrong shape.</summary>
        public string? Bad { get; set; }
    }
}
