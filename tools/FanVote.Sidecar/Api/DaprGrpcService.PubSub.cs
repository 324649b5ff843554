using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FanVote.Sidecar.Api;

// STUB: replaced by the pub/sub implementation.
public partial class DaprGrpcService
{
    public virtual Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "not implemented yet"));

    public virtual Task<BulkPublishResponse> BulkPublishEvent(BulkPublishRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "not implemented yet"));

    public virtual Task<BulkPublishResponse> BulkPublishEventAlpha1(BulkPublishRequest request, ServerCallContext context) =>
        BulkPublishEvent(request, context);
}
