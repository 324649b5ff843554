using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FanVote.Sidecar.Api;

/// <summary>
/// The `dapr.proto.runtime.v1.Dapr` service, hand-bound because Dapr.Protos ships no server base class
/// (docs/dapr-subset.md §2.6). Grpc.AspNetCore finds each handler by name: public virtual, (TReq, ServerCallContext).
/// Methods not listed here answer UNIMPLEMENTED, which the SDK's capability probe expects.
/// State methods live in DaprGrpcService.State.cs, pub/sub in DaprGrpcService.PubSub.cs.
/// </summary>
[BindServiceMethod(typeof(DaprGrpcService), nameof(BindService))]
public partial class DaprGrpcService
{
    public const string ServiceName = "dapr.proto.runtime.v1.Dapr";

    public static void BindService(ServiceBinderBase binder, DaprGrpcService? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        Add<PublishEventRequest, Empty>(binder, "PublishEvent", service is null ? null : service.PublishEvent);
        Add<BulkPublishRequest, BulkPublishResponse>(binder, "BulkPublishEvent", service is null ? null : service.BulkPublishEvent);
        Add<BulkPublishRequest, BulkPublishResponse>(binder, "BulkPublishEventAlpha1", service is null ? null : service.BulkPublishEventAlpha1);
        Add<GetStateRequest, GetStateResponse>(binder, "GetState", service is null ? null : service.GetState);
        Add<GetBulkStateRequest, GetBulkStateResponse>(binder, "GetBulkState", service is null ? null : service.GetBulkState);
        Add<SaveStateRequest, Empty>(binder, "SaveState", service is null ? null : service.SaveState);
        Add<DeleteStateRequest, Empty>(binder, "DeleteState", service is null ? null : service.DeleteState);
        Add<DeleteBulkStateRequest, Empty>(binder, "DeleteBulkState", service is null ? null : service.DeleteBulkState);
        Add<ExecuteStateTransactionRequest, Empty>(binder, "ExecuteStateTransaction", service is null ? null : service.ExecuteStateTransaction);
        Add<GetMetadataRequest, GetMetadataResponse>(binder, "GetMetadata", service is null ? null : service.GetMetadata);
    }

    private static void Add<TReq, TResp>(ServiceBinderBase binder, string name, UnaryServerMethod<TReq, TResp>? handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new()
    {
        var parser = new MessageParser<TReq>(() => new TReq());
        var respParser = new MessageParser<TResp>(() => new TResp());
        var method = new Method<TReq, TResp>(
            MethodType.Unary,
            ServiceName,
            name,
            Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), respParser.ParseFrom));
        binder.AddMethod(method, handler!);
    }

    /// <summary>An RpcException carrying daprd's error code in the message, the way daprd words it.</summary>
    internal static RpcException Error(StatusCode code, string errorCode, string message) =>
        new(new Status(code, message), new Metadata { { "dapr-error-code", errorCode } });
}
