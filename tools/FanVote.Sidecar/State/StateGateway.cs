using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;

namespace FanVote.Sidecar.State;

/// <summary>Why a state call failed, in terms both APIs map to their own codes (gRPC status, HTTP status).</summary>
public enum StateFailure
{
    NotConfigured,
    StoreNotFound,
    BadRequest,
    ETagMismatch,
    ETagInvalid,
    StoreError,
}

public sealed class StateApiException(StateFailure failure, string errorCode, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public StateFailure Failure { get; } = failure;

    public string ErrorCode { get; } = errorCode;
}

/// <summary>
/// The state API shared by gRPC and HTTP: store lookup, key prefixing (§6.4), and turning store exceptions into
/// one <see cref="StateApiException"/> with daprd's error codes.
/// </summary>
public sealed class StateGateway(ComponentRegistry registry, SidecarOptions options)
{
    public IStateStore Store(string name)
    {
        if (registry.StateStores.Count == 0)
        {
            throw new StateApiException(StateFailure.NotConfigured, "ERR_STATE_STORE_NOT_CONFIGURED", "state store is not configured");
        }

        return registry.StateStores.TryGetValue(name ?? "", out var s)
            ? s
            : throw new StateApiException(StateFailure.StoreNotFound, "ERR_STATE_STORE_NOT_FOUND", $"state store {name} is not found");
    }

    public string Key(IStateStore store, string key)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (string.IsNullOrEmpty(key))
        {
            throw new StateApiException(StateFailure.BadRequest, "ERR_MALFORMED_REQUEST", "key is empty");
        }

        try
        {
            return StateKeys.Prefix(store.Spec, options.AppId, key);
        }
        catch (ArgumentException e)
        {
            throw new StateApiException(StateFailure.BadRequest, "ERR_MALFORMED_REQUEST", e.Message);
        }
    }

    public async Task<T> RunAsync<T>(string storeName, string errorCode, string what, Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call();
        }
        catch (StateETagMismatchException e)
        {
            throw new StateApiException(StateFailure.ETagMismatch, errorCode, $"failed {what} in state store {storeName}: possible etag mismatch. error from state store: {e.Message}", e);
        }
        catch (StateETagInvalidException e)
        {
            throw new StateApiException(StateFailure.ETagInvalid, errorCode, $"failed {what} in state store {storeName}: invalid etag value: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new StateApiException(StateFailure.BadRequest, "ERR_MALFORMED_REQUEST", $"failed {what} in state store {storeName}: {e.Message}", e);
        }
        catch (Exception e) when (e is not StateApiException and not OperationCanceledException)
        {
            throw new StateApiException(StateFailure.StoreError, errorCode, $"failed {what} in state store {storeName}: {e.Message}", e);
        }
    }

    public Task RunAsync(string storeName, string errorCode, string what, Func<Task> call) =>
        RunAsync<bool>(storeName, errorCode, what, async () =>
        {
            await call();
            return true;
        });
}
