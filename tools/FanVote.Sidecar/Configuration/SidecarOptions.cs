namespace FanVote.Sidecar.Configuration;

/// <summary>Everything daprd's command line (and its environment) can set, as the local sidecar understands it.</summary>
public sealed class SidecarOptions
{
    public string AppId { get; set; } = "";
    public int? AppPort { get; set; }
    public string AppProtocol { get; set; } = "http";
    public string AppChannelAddress { get; set; } = "127.0.0.1";
    public int DaprHttpPort { get; set; } = 3500;
    public int DaprGrpcPort { get; set; } = 50001;
    public string ListenAddress { get; set; } = "127.0.0.1";
    public List<string> ResourcesPaths { get; } = [];
    public string? ConfigPath { get; set; }
    public string LogLevel { get; set; } = "info";
    public bool LogAsJson { get; set; }
    public bool EnableApiLogging { get; set; }
    public int AppMaxConcurrency { get; set; } = -1;
    public long MaxBodySizeBytes { get; set; } = 4L * 1024 * 1024;
    public bool EnableAppHealthCheck { get; set; }
    public string AppHealthCheckPath { get; set; } = "/healthz";
    public TimeSpan AppHealthProbeInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan AppHealthProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(500);
    public int AppHealthThreshold { get; set; } = 3;
    public TimeSpan GracefulShutdown { get; set; } = TimeSpan.FromSeconds(5);
    public string? PlacementHostAddress { get; set; }
    public string? SchedulerHostAddress { get; set; }
    public string Mode { get; set; } = "standalone";
    public string? MetricsPort { get; set; }

    /// <summary>DAPR_API_TOKEN: required on every app→sidecar call when set.</summary>
    public string? ApiToken { get; set; }

    /// <summary>APP_API_TOKEN: sent on every sidecar→app call when set.</summary>
    public string? AppApiToken { get; set; }

    public bool HasApp => AppPort is > 0;

    public Uri AppBaseUri => new($"http://{AppChannelAddress}:{AppPort}/");
}
