using System.Text.Json;

namespace FanVote.Transport;

/// <summary>
/// One accepted vote as read from the <c>votes</c> topic: every field of <see cref="Contracts.Events.VoteAccepted"/>,
/// with its acceptance time (the event's <c>occurredAt</c>) and ingress's seal.
/// </summary>
/// <param name="VoteId">The vote id, the ledger's primary key.</param>
/// <param name="WindowId">The voting window.</param>
/// <param name="CandidateId">The chosen candidate.</param>
/// <param name="AccountId">The signed-in account.</param>
/// <param name="DeviceId">The device of the fan's session.</param>
/// <param name="Ip">The client address ingress saw ("" when unknown).</param>
/// <param name="AcceptedAt">When ingress accepted it.</param>
/// <param name="AccountCreatedAt">When the account was created (the acceptance time when the event does not say).</param>
/// <param name="Seal">Ingress's seal over all of the above (null for a vote of schema version 1, which had none).</param>
public sealed record AcceptedVote(
    Guid VoteId,
    string WindowId,
    string CandidateId,
    string AccountId,
    string DeviceId,
    string Ip,
    DateTimeOffset AcceptedAt,
    DateTimeOffset AccountCreatedAt,
    string? Seal = null);

/// <summary>
/// Reads a <see cref="Contracts.Events.VoteAccepted"/> from the data of a CloudEvent, for every subscriber of the topic
/// (tally, fraud). A vote of a schema version this code does not know, or with a field missing or malformed, is
/// reported with its reason (it will be dead-lettered), never guessed at. Whether its seal is right is for tally to
/// check: only tally holds the key.
/// </summary>
public sealed class VoteData : IBulkData<AcceptedVote>
{
    /// <summary>The newest <see cref="Contracts.Events.VoteAccepted"/> schema version this code reads (it reads every older one too).</summary>
    public const int KnownSchemaVersion = Contracts.Events.VoteAccepted.CurrentSchemaVersion;

    /// <summary>Decodes a whole bulk delivery of votes.</summary>
    public static List<BulkEntry<AcceptedVote>> Decode(ReadOnlyMemory<byte> json) => BulkDelivery.Decode<AcceptedVote, VoteData>(json);

    public static AcceptedVote? Read(ref Utf8JsonReader reader, out string? problem)
    {
        var v = new VoteFields();
        ReadData(ref reader, v);
        if (v.SchemaVersion < 1 || v.SchemaVersion > KnownSchemaVersion)
        {
            problem = $"VoteAccepted schema version {v.SchemaVersion} is not known here (this code reads 1-{KnownSchemaVersion})";
            return null;
        }

        var missing = v.VoteId is null ? "voteId" : v.OccurredAt is null ? "occurredAt"
            : string.IsNullOrEmpty(v.WindowId) ? "windowId" : string.IsNullOrEmpty(v.CandidateId) ? "candidateId"
            : string.IsNullOrEmpty(v.AccountId) ? "accountId" : string.IsNullOrEmpty(v.DeviceId) ? "deviceId"
            : null;
        if (missing is not null || v.Bad is not null)
        {
            problem = $"not a VoteAccepted: {v.Bad ?? missing} is missing, empty or malformed";
            return null;
        }

        problem = null;
        return new AcceptedVote(v.VoteId!.Value, v.WindowId!, v.CandidateId!, v.AccountId!, v.DeviceId!, v.Ip ?? "",
            v.OccurredAt!.Value, v.AccountCreatedAt ?? v.OccurredAt!.Value, v.Seal);
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
                    v.SchemaVersion = r.TokenType == JsonTokenType.Number && r.TryGetInt32(out var version) ? version : -1;
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
                case DataField.Seal:
                    v.Seal = isString ? r.GetString() : null;
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
        : r.ValueTextEquals("seal"u8) ? DataField.Seal
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
        Seal,
    }

    private sealed class VoteFields
    {
        public Guid? VoteId { get; set; }

        public string? WindowId { get; set; }

        public string? CandidateId { get; set; }

        public string? AccountId { get; set; }

        public string? DeviceId { get; set; }

        public string? Ip { get; set; }

        public string? Seal { get; set; }

        public DateTimeOffset? OccurredAt { get; set; }

        public DateTimeOffset? AccountCreatedAt { get; set; }

        public int SchemaVersion { get; set; } = 1;

        /// <summary>The first field present with a value of the wrong shape.</summary>
        public string? Bad { get; set; }
    }
}
