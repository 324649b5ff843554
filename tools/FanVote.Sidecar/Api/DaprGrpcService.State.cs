using Dapr.Client.Autogen.Grpc.v1;
using FanVote.Sidecar.State;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FanVote.Sidecar.Api;

/// <summary>State methods with daprd's status codes (docs/dapr-subset.md §2.3): ABORTED on etag mismatch (the SDK's
/// Try* methods return false), INVALID_ARGUMENT on a malformed etag, INTERNAL for any transaction failure.</summary>
public partial class DaprGrpcService
{
    private StateGateway State => Services.GetRequiredService<StateGateway>();

    public virtual async Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Grpc(async () =>
        {
            var store = State.Store(request.StoreName);
            var key = State.Key(store, request.Key);
            var entry = await State.RunAsync(request.StoreName, "ERR_STATE_GET", $"getting state with key {request.Key}", () => store.GetAsync(key, context.CancellationToken));
            var r = new GetStateResponse();
            if (entry is not null)
            {
                r.Data = ByteString.CopyFrom(entry.Value);
                r.Etag = entry.ETag;
                r.Metadata.Add(entry.Metadata.ToDictionary());
            }

            return r;
        });
    }

    public virtual async Task<GetBulkStateResponse> GetBulkState(GetBulkStateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Grpc(async () =>
        {
            var store = State.Store(request.StoreName);
            var parallelism = request.Parallelism > 0 ? request.Parallelism : 16;
            var items = new BulkStateItem[request.Keys.Count];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, request.Keys.Count),
                new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = context.CancellationToken },
                async (i, ct) =>
                {
                    var item = new BulkStateItem { Key = request.Keys[i] };
                    try
                    {
                        var entry = await store.GetAsync(State.Key(store, request.Keys[i]), ct);
                        if (entry is not null)
                        {
                            item.Data = ByteString.CopyFrom(entry.Value);
                            item.Etag = entry.ETag;
                            item.Metadata.Add(entry.Metadata.ToDictionary());
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        item.Error = e.Message;
                    }

                    items[i] = item;
                });
            var r = new GetBulkStateResponse();
            r.Items.AddRange(items);
            return r;
        });
    }

    public virtual async Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Grpc(async () =>
        {
            var store = State.Store(request.StoreName);
            foreach (var item in request.States)
            {
                var write = ToWrite(store, item);
                await State.RunAsync(request.StoreName, "ERR_STATE_SAVE", "saving state", () => store.SetAsync(write, context.CancellationToken));
            }

            return new Empty();
        });
    }

    public virtual async Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Grpc(async () =>
        {
            var store = State.Store(request.StoreName);
            var delete = new StateDelete(State.Key(store, request.Key), request.Etag?.Value, request.Metadata, Concurrency(request.Options));
            await State.RunAsync(request.StoreName, "ERR_STATE_DELETE", $"deleting state with key {request.Key}", () => store.DeleteAsync(delete, context.CancellationToken));
            return new Empty();
        });
    }

    public virtual async Task<Empty> DeleteBulkState(DeleteBulkStateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Grpc(async () =>
        {
            var store = State.Store(request.StoreName);
            foreach (var item in request.States)
            {
                var delete = new StateDelete(State.Key(store, item.Key), item.Etag?.Value, item.Metadata, Concurrency(item.Options));
                await State.RunAsync(request.StoreName, "ERR_STATE_DELETE", $"deleting state with key {item.Key}", () => store.DeleteAsync(delete, context.CancellationToken));
            }

            return new Empty();
        });
    }

    public virtual async Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Grpc(async () =>
        {
            var store = State.Store(request.StoreName);
            var ops = new List<StateOperation>();
            foreach (var op in request.Operations)
            {
                ops.Add(op.OperationType switch
                {
                    "upsert" => new UpsertOperation(ToWrite(store, op.Request)),
                    "delete" => new DeleteOperation(new StateDelete(State.Key(store, op.Request.Key), op.Request.Etag?.Value, op.Request.Metadata, Concurrency(op.Request.Options))),
                    _ => throw new StateApiException(StateFailure.BadRequest, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {op.OperationType} not supported"),
                });
            }

            try
            {
                await State.RunAsync(request.StoreName, "ERR_STATE_TRANSACTION", "executing the transaction", () => store.ExecuteTransactionAsync(ops, context.CancellationToken));
            }
            catch (StateApiException e) when (e.Failure is StateFailure.ETagMismatch or StateFailure.ETagInvalid or StateFailure.StoreError)
            {
                // daprd reports every transaction failure, etag ones included, as INTERNAL.
                throw new StateApiException(StateFailure.StoreError, e.ErrorCode, e.Message, e);
            }

            return new Empty();
        });
    }

    private StateWrite ToWrite(IStateStore store, StateItem item) =>
        new(State.Key(store, item.Key), item.Value.Memory, item.Etag?.Value, item.Metadata, Concurrency(item.Options), Consistency(item.Options));

    private static StateConcurrency Concurrency(StateOptions? o) => o?.Concurrency switch
    {
        StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite => StateConcurrency.FirstWrite,
        StateOptions.Types.StateConcurrency.ConcurrencyLastWrite => StateConcurrency.LastWrite,
        _ => StateConcurrency.Unspecified,
    };

    private static StateConsistency Consistency(StateOptions? o) => o?.Consistency switch
    {
        StateOptions.Types.StateConsistency.ConsistencyStrong => StateConsistency.Strong,
        StateOptions.Types.StateConsistency.ConsistencyEventual => StateConsistency.Eventual,
        _ => StateConsistency.Unspecified,
    };

    private static async Task<T> Grpc<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (StateApiException e)
        {
            var code = e.Failure switch
            {
                StateFailure.NotConfigured => StatusCode.FailedPrecondition,
                StateFailure.StoreNotFound or StateFailure.BadRequest or StateFailure.ETagInvalid => StatusCode.InvalidArgument,
                StateFailure.ETagMismatch => StatusCode.Aborted,
                _ => StatusCode.Internal,
            };
            throw Error(code, e.ErrorCode, e.Message);
        }
    }
}
