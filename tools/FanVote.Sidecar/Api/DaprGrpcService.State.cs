using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FanVote.Sidecar.Api;

// STUB: replaced by the state implementation.
public partial class DaprGrpcService
{
    public virtual Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context) => throw Unimplemented();

    public virtual Task<GetBulkStateResponse> GetBulkState(GetBulkStateRequest request, ServerCallContext context) => throw Unimplemented();

    public virtual Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context) => throw Unimplemented();

    public virtual Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context) => throw Unimplemented();

    public virtual Task<Empty> DeleteBulkState(DeleteBulkStateRequest request, ServerCallContext context) => throw Unimplemented();

    public virtual Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context) => throw Unimplemented();

    private static RpcException Unimplemented() => new(new Status(StatusCode.Unimplemented, "not implemented yet"));
}
