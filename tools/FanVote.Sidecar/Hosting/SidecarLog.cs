namespace FanVote.Sidecar;

/// <summary>Structured log messages of the sidecar host (other areas keep their own LoggerMessage partials).</summary>
internal static partial class SidecarLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "component loaded: {Name} ({Type}/{Version})")]
    public static partial void ComponentLoaded(ILogger logger, string name, string type, string version);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "component {Name} ({Type}) failed to initialise and has ignoreErrors: true; continuing without it")]
    public static partial void ComponentIgnored(ILogger logger, Exception exception, string name, string type);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "local sidecar for app {AppId} listening: HTTP {HttpPort}, gRPC {GrpcPort}; app port {AppPort}")]
    public static partial void Listening(ILogger logger, string appId, int httpPort, int grpcPort, string appPort);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "app {AppId} is reachable on {Address}")]
    public static partial void AppReachable(ILogger logger, string appId, string address);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "sidecar ready for app {AppId}")]
    public static partial void Ready(ILogger logger, string appId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "start-up step {Step} failed")]
    public static partial void StartupStepFailed(ILogger logger, Exception exception, string step);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "API call {Method} {Path} -> {Status}")]
    public static partial void ApiCall(ILogger logger, string method, string path, int status);
}
