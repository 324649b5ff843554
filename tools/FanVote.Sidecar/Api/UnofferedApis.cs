namespace FanVote.Sidecar.Api;

/// <summary>
/// What the sidecar answers on routes it does not serve, instead of an empty 404: Dapr APIs it does not offer get
/// daprd's `501 ERR_API_UNIMPLEMENTED` naming the API (run daprd for it); any other path gets a 404 with a Dapr error
/// body. gRPC calls to unknown methods still answer UNIMPLEMENTED (Grpc.AspNetCore). Same callers and token check as
/// every other HTTP API route (DAPR_API_TOKEN when set).
/// </summary>
public static class UnofferedApis
{
    private static readonly (string Prefix, string Name)[] NotOffered =
    [
        ("/v1.0/invoke/", "service invocation"),
        ("/v1.0-alpha1/state/", "the state query API"),
        ("/v1.0/bindings/", "bindings"),
        ("/v1.0/secrets/", "secrets"),
        ("/v1.0/configuration/", "configuration"),
        ("/v1.0-alpha1/configuration/", "configuration"),
        ("/v1.0-alpha1/lock/", "distributed lock"),
        ("/v1.0-alpha1/unlock/", "distributed lock"),
        ("/v1.0-alpha1/crypto/", "cryptography"),
        ("/v1.0-alpha1/jobs/", "jobs"),
        ("/v1.0-alpha1/conversation/", "conversation"),
        ("/v1.0-alpha2/conversation/", "conversation"),
        ("/v1.0/workflows/", "the workflow HTTP API (use the gRPC TaskHubSidecarService, as Dapr.Workflow does)"),
        ("/v1.0-beta1/workflows/", "the workflow HTTP API (use the gRPC TaskHubSidecarService, as Dapr.Workflow does)"),
        ("/v1.0-alpha1/subscribe/", "streaming subscriptions"),
    ];

    private static async Task AnswerAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "/";
        var api = NotOffered.FirstOrDefault(n => path.StartsWith(n.Prefix, StringComparison.Ordinal) || path + "/" == n.Prefix);
        var result = api.Name is { } name
            ? HttpErrors.Error(StatusCodes.Status501NotImplemented, "ERR_API_UNIMPLEMENTED",
                $"{name} is not offered by the FanVote local sidecar (it serves state, pub/sub, actors, workflows over gRPC, metadata and health; see docs/dapr-subset.md): run daprd for {name}")
            : HttpErrors.Error(StatusCodes.Status404NotFound, "ERR_NOT_FOUND",
                $"{ctx.Request.Method} {path} is not a Dapr API route of the FanVote local sidecar");
        await result.ExecuteAsync(ctx);
    }

    public static WebApplication MapUnofferedApis(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Only under Dapr's HTTP API prefixes: gRPC paths (/service/method) stay with Grpc.AspNetCore, which answers
        // UNIMPLEMENTED for unknown methods (the SDKs' capability probes depend on that exact answer).
        foreach (var prefix in (string[])["/v1.0", "/v1.0-alpha1", "/v1.0-alpha2", "/v1.0-beta1"])
        {
            app.MapFallback(prefix + "/{**rest}", AnswerAsync);
        }

        return app;
    }
}
