using Dapr.Client.Autogen.Grpc.v1;
using FanVote.Sidecar.PubSub;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FanVote.Sidecar.Api;

public partial class DaprGrpcService
{
    public virtual async Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var publisher = Services.GetRequiredService<PubSubPublisher>();
        try
        {
            await publisher.PublishAsync(
                new PublishRequest(
                    request.PubsubName,
                    request.Topic,
                    request.Data.Memory,
                    request.DataContentType,
                    request.Metadata,
                    context.RequestHeaders.GetValue("traceparent"),
                    context.RequestHeaders.GetValue("tracestate")),
                context.CancellationToken);
            return new Empty();
        }
        catch (PublishException e)
        {
            throw ToRpc(e);
        }
    }

    /// <summary>Partial failures come back as failedEntries with status OK; invalid ids, unknown pubsub, scopes and total failure are call errors (§2.3).</summary>
    public virtual async Task<BulkPublishResponse> BulkPublishEvent(BulkPublishRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var publisher = Services.GetRequiredService<PubSubPublisher>();
        var entries = request.Entries
            .Select(e => new BulkPublishEntry(e.EntryId, e.Event.Memory, e.ContentType, e.Metadata))
            .ToList();
        try
        {
            var failures = await publisher.BulkPublishAsync(
                request.PubsubName,
                request.Topic,
                entries,
                request.Metadata,
                context.RequestHeaders.GetValue("traceparent"),
                context.RequestHeaders.GetValue("tracestate"),
                context.CancellationToken);
            if (failures.Count > 0 && failures.Count == entries.Count)
            {
                throw Error(
                    StatusCode.Internal,
                    "ERR_PUBSUB_PUBLISH_MESSAGE",
                    $"error when publishing to topic {request.Topic} in pubsub {request.PubsubName}: every entry failed ({failures[0].Error})");
            }

            var response = new BulkPublishResponse();
            response.FailedEntries.AddRange(failures.Select(f => new BulkPublishResponseFailedEntry { EntryId = f.EntryId, Error = f.Error }));
            return response;
        }
        catch (PublishException e)
        {
            throw ToRpc(e);
        }
    }

    public virtual Task<BulkPublishResponse> BulkPublishEventAlpha1(BulkPublishRequest request, ServerCallContext context) =>
        BulkPublishEvent(request, context);

    private static RpcException ToRpc(PublishException e) => e.Error switch
    {
        PublishError.Forbidden => Error(StatusCode.PermissionDenied, e.ErrorCode, e.Message),
        PublishError.Failed => Error(StatusCode.Internal, e.ErrorCode, e.Message),
        _ => Error(StatusCode.InvalidArgument, e.ErrorCode, e.Message),
    };
}
