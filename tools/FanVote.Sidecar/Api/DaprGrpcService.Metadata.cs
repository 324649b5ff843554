using Dapr.Client.Autogen.Grpc.v1;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using FanVote.Sidecar.Hosting;
using Grpc.Core;

namespace FanVote.Sidecar.Api;

public partial class DaprGrpcService(
    SidecarOptions options,
    ComponentRegistry components,
    SidecarMetadata metadata,
    IServiceProvider services)
{
    public virtual Task<GetMetadataResponse> GetMetadata(GetMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(metadata.ToGrpc());

    private SidecarOptions Options => options;

    private ComponentRegistry Components => components;

    private IServiceProvider Services => services;
}
