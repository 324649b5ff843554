using Dapr.DurableTask.Protobuf;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace FanVote.Sidecar.Workflows;

/// <summary>
/// `TaskHubSidecarService` (no proto package), Dapr's Durable Task protocol that Dapr.Workflow 1.19 speaks, served on
/// the sidecar's gRPC port next to `dapr.proto.runtime.v1.Dapr` as daprd does, so the DAPR_API_TOKEN check of the
/// gRPC pipeline covers it. Hand-bound like the Dapr service: the message types come from Dapr.Workflow.Grpc.dll.
/// Who may call: whoever holds DAPR_API_TOKEN when it is set (the app's workflow worker and clients).
/// </summary>
[BindServiceMethod(typeof(WorkflowGrpcService), nameof(BindService))]
public class WorkflowGrpcService(WorkflowEngine engine)
{
    public const string ServiceName = "TaskHubSidecarService";

    public static void BindService(ServiceBinderBase binder, WorkflowGrpcService? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        Unary<Empty, Empty>(binder, "Hello", service is null ? null : service.Hello);
        Unary<CreateInstanceRequest, CreateInstanceResponse>(binder, "StartInstance", service is null ? null : service.StartInstance);
        Unary<GetInstanceRequest, GetInstanceResponse>(binder, "GetInstance", service is null ? null : service.GetInstance);
        Unary<GetInstanceRequest, GetInstanceResponse>(binder, "WaitForInstanceStart", service is null ? null : service.WaitForInstanceStart);
        Unary<GetInstanceRequest, GetInstanceResponse>(binder, "WaitForInstanceCompletion", service is null ? null : service.WaitForInstanceCompletion);
        Unary<RaiseEventRequest, RaiseEventResponse>(binder, "RaiseEvent", service is null ? null : service.RaiseEvent);
        Unary<TerminateRequest, TerminateResponse>(binder, "TerminateInstance", service is null ? null : service.TerminateInstance);
        Unary<SuspendRequest, SuspendResponse>(binder, "SuspendInstance", service is null ? null : service.SuspendInstance);
        Unary<ResumeRequest, ResumeResponse>(binder, "ResumeInstance", service is null ? null : service.ResumeInstance);
        Unary<PurgeInstancesRequest, PurgeInstancesResponse>(binder, "PurgeInstances", service is null ? null : service.PurgeInstances);
        Unary<ActivityResponse, CompleteTaskResponse>(binder, "CompleteActivityTask", service is null ? null : service.CompleteActivityTask);
        Unary<WorkflowResponse, CompleteTaskResponse>(binder, "CompleteOrchestratorTask", service is null ? null : service.CompleteOrchestratorTask);
        Unary<WorkflowResponse, CompleteTaskResponse>(binder, "CompleteWorkflowTask", service is null ? null : service.CompleteWorkflowTask);
        Unary<RerunWorkflowFromEventRequest, RerunWorkflowFromEventResponse>(binder, "RerunWorkflowFromEvent", service is null ? null : service.RerunWorkflowFromEvent);
        Unary<ListInstanceIDsRequest, ListInstanceIDsResponse>(binder, "ListInstanceIDs", service is null ? null : service.ListInstanceIDs);
        Unary<GetInstanceHistoryRequest, GetInstanceHistoryResponse>(binder, "GetInstanceHistory", service is null ? null : service.GetInstanceHistory);
        binder.AddMethod(
            new Method<GetWorkItemsRequest, WorkItem>(MethodType.ServerStreaming, ServiceName, "GetWorkItems", Marshaller(GetWorkItemsRequest.Parser), Marshaller(WorkItem.Parser)),
            service is null ? null! : service.GetWorkItems);
    }

    public virtual Task<Empty> Hello(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public virtual async Task<CreateInstanceResponse> StartInstance(CreateInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return new CreateInstanceResponse { InstanceId = await engine.StartInstanceAsync(request, context.CancellationToken) };
    }

    public virtual Task<GetInstanceResponse> GetInstance(GetInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return engine.GetInstanceAsync(request.InstanceId, request.GetInputsAndOutputs, context.CancellationToken);
    }

    public virtual Task<GetInstanceResponse> WaitForInstanceStart(GetInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return engine.WaitForStartAsync(request.InstanceId, request.GetInputsAndOutputs, context.CancellationToken);
    }

    public virtual Task<GetInstanceResponse> WaitForInstanceCompletion(GetInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return engine.WaitForCompletionAsync(request.InstanceId, request.GetInputsAndOutputs, context.CancellationToken);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "gRPC binds handlers by the RPC's name")]
    public virtual async Task<RaiseEventResponse> RaiseEvent(RaiseEventRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await engine.RaiseEventAsync(request, context.CancellationToken);
        return new RaiseEventResponse();
    }

    public virtual async Task<TerminateResponse> TerminateInstance(TerminateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await engine.TerminateAsync(request, context.CancellationToken);
        return new TerminateResponse();
    }

    public virtual async Task<SuspendResponse> SuspendInstance(SuspendRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await engine.SuspendAsync(request.InstanceId, request.Reason, context.CancellationToken);
        return new SuspendResponse();
    }

    public virtual async Task<ResumeResponse> ResumeInstance(ResumeRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await engine.ResumeAsync(request.InstanceId, request.Reason, context.CancellationToken);
        return new ResumeResponse();
    }

    public virtual async Task<PurgeInstancesResponse> PurgeInstances(PurgeInstancesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var count = await engine.PurgeAsync(request, context.CancellationToken);
        return new PurgeInstancesResponse { DeletedInstanceCount = count, IsComplete = true };
    }

    public virtual Task GetWorkItems(GetWorkItemsRequest request, IServerStreamWriter<WorkItem> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return engine.ServeStreamAsync(request, responseStream, context.CancellationToken);
    }

    public virtual async Task<CompleteTaskResponse> CompleteActivityTask(ActivityResponse request, ServerCallContext context)
    {
        await engine.CompleteActivityAsync(request);
        return new CompleteTaskResponse();
    }

    /// <summary>The name Dapr.Workflow 1.19 calls (deprecated upstream in favour of CompleteWorkflowTask; both served).</summary>
    public virtual async Task<CompleteTaskResponse> CompleteOrchestratorTask(WorkflowResponse request, ServerCallContext context)
    {
        await engine.CompleteTurnAsync(request);
        return new CompleteTaskResponse();
    }

    public virtual Task<CompleteTaskResponse> CompleteWorkflowTask(WorkflowResponse request, ServerCallContext context) =>
        CompleteOrchestratorTask(request, context);

    public virtual Task<RerunWorkflowFromEventResponse> RerunWorkflowFromEvent(RerunWorkflowFromEventRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "RerunWorkflowFromEvent is not supported by the FanVote local sidecar; run daprd to rerun workflows from an event"));

    public virtual Task<ListInstanceIDsResponse> ListInstanceIDs(ListInstanceIDsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return engine.ListAsync(request, context.CancellationToken);
    }

    public virtual Task<GetInstanceHistoryResponse> GetInstanceHistory(GetInstanceHistoryRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return engine.HistoryAsync(request.InstanceId, context.CancellationToken);
    }

    private static void Unary<TReq, TResp>(ServiceBinderBase binder, string name, UnaryServerMethod<TReq, TResp>? handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp>, new() =>
        binder.AddMethod(
            new Method<TReq, TResp>(MethodType.Unary, ServiceName, name, Marshaller(new MessageParser<TReq>(() => new TReq())), Marshaller(new MessageParser<TResp>(() => new TResp()))),
            handler!);

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser)
        where T : IMessage<T> =>
        Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom);
}
