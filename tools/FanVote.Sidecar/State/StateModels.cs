namespace FanVote.Sidecar.State;

public enum StateConcurrency
{
    Unspecified = 0,
    FirstWrite = 1,
    LastWrite = 2,
}

public enum StateConsistency
{
    Unspecified = 0,
    Eventual = 1,
    Strong = 2,
}

/// <summary>A write. <see cref="Key"/> is the stored key (already prefixed, see <see cref="StateKeys"/>).</summary>
public sealed record StateWrite(
    string Key,
    ReadOnlyMemory<byte> Value,
    string? ETag,
    IReadOnlyDictionary<string, string> Metadata,
    StateConcurrency Concurrency = StateConcurrency.Unspecified,
    StateConsistency Consistency = StateConsistency.Unspecified);

public sealed record StateDelete(
    string Key,
    string? ETag,
    IReadOnlyDictionary<string, string> Metadata,
    StateConcurrency Concurrency = StateConcurrency.Unspecified);

/// <summary>What a read returns; Metadata may hold ttlExpireTime (RFC3339).</summary>
public sealed record StateEntry(byte[] Value, string ETag, IReadOnlyDictionary<string, string> Metadata);

public abstract record StateOperation;

public sealed record UpsertOperation(StateWrite Write) : StateOperation;

public sealed record DeleteOperation(StateDelete Delete) : StateOperation;

/// <summary>Etag given but not the current one (gRPC ABORTED, HTTP 409).</summary>
public sealed class StateETagMismatchException(string message) : Exception(message);

/// <summary>Etag the store cannot parse (gRPC INVALID_ARGUMENT, HTTP 400).</summary>
public sealed class StateETagInvalidException(string message) : Exception(message);

/// <summary>Any other store failure (gRPC INTERNAL, HTTP 500).</summary>
public sealed class StateStoreException(string message, Exception? inner = null) : Exception(message, inner);
