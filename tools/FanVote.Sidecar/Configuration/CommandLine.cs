using System.Globalization;

namespace FanVote.Sidecar.Configuration;

/// <summary>Parses daprd's flags (Go flag syntax: -f v, --f v, --f=v; booleans bare or =true/false).</summary>
public static class CommandLine
{
    private static readonly HashSet<string> BoolFlags = new(StringComparer.Ordinal)
    {
        "enable-api-logging", "enable-app-health-check", "log-as-json", "enable-metrics", "enable-profiling",
        "enable-mtls", "app-ssl",
    };

    public static SidecarOptions Parse(IReadOnlyList<string> args, Func<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(env);
        var o = new SidecarOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-" || arg == "--")
            {
                throw new CommandLineException($"unexpected argument '{arg}': daprd takes only flags (see --help)");
            }

            var name = arg.TrimStart('-');
            string? value = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }

            if (name is "help" or "h")
            {
                throw new CommandLineHelpException();
            }

            if (BoolFlags.Contains(name))
            {
                var b = value is null || ParseBool(name, value);
                Apply(o, name, b ? "true" : "false");
                continue;
            }

            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    throw new CommandLineException($"flag needs an argument: --{name}");
                }

                value = args[++i];
            }

            Apply(o, name, value);
        }

        o.ApiToken = NullIfEmpty(env("DAPR_API_TOKEN"));
        o.AppApiToken = NullIfEmpty(env("APP_API_TOKEN"));
        if (string.IsNullOrWhiteSpace(o.AppId))
        {
            throw new CommandLineException("--app-id is required by the local sidecar (daprd would invent one; give it explicitly)");
        }

        if (!string.Equals(o.AppProtocol, "http", StringComparison.OrdinalIgnoreCase))
        {
            throw new CommandLineException($"--app-protocol {o.AppProtocol} is not supported by the local sidecar (only http); use daprd for other app protocols");
        }

        if (o.ResourcesPaths.Count == 0)
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            o.ResourcesPaths.Add(Path.Combine(home, ".dapr", "components"));
        }

        return o;
    }

    public const string Usage = """
        FanVote local sidecar: the subset of daprd that the Dapr .NET SDK uses (pub/sub, state, actors).
        Flags (daprd's own names):
          --app-id ID                    (required) the app's id
          --app-port N                   port the app listens on (omit for no app)
          --app-protocol http            only http is supported locally
          --app-channel-address ADDR     default 127.0.0.1
          --dapr-http-port N             default 3500
          --dapr-grpc-port N             default 50001
          --dapr-listen-addresses ADDR   default 127.0.0.1
          --resources-path DIR           repeatable (alias --components-path)
          --config FILE                  a dapr.io Configuration (tracing sampling honoured, rest ignored)
          --log-level LEVEL              debug|info|warn|error
          --log-as-json                  JSON logs
          --enable-api-logging
          --app-max-concurrency N        default -1 (unlimited)
          --max-body-size SIZE           default 4Mi
          --enable-app-health-check, --app-health-check-path, --app-health-probe-interval,
          --app-health-probe-timeout, --app-health-threshold
          --dapr-graceful-shutdown-seconds N   default 5
          --placement-host-address, --scheduler-host-address, --mode standalone (accepted, ignored)
        Environment: DAPR_API_TOKEN (checked on app calls), APP_API_TOKEN (sent to the app).
        Component types: pubsub.redis, pubsub.in-memory, state.redis, state.postgresql (v1, v2),
        state.in-memory, secretstores.local.env and secretstores.local.file (for secretKeyRef).
        Anything else (pubsub.kafka, ...) needs daprd.
        """;

    private static void Apply(SidecarOptions o, string name, string value)
    {
        switch (name)
        {
            case "app-id": o.AppId = value; break;
            case "app-port": o.AppPort = value.Length == 0 ? null : ParseInt(name, value); break;
            case "app-protocol": o.AppProtocol = value; break;
            case "app-channel-address": o.AppChannelAddress = value; break;
            case "dapr-http-port": o.DaprHttpPort = ParseInt(name, value); break;
            case "dapr-grpc-port": o.DaprGrpcPort = ParseInt(name, value); break;
            case "dapr-listen-addresses": o.ListenAddress = value.Split(',')[0]; break;
            case "resources-path":
            case "components-path": o.ResourcesPaths.Add(value); break;
            case "config": o.ConfigPath = value; break;
            case "log-level": o.LogLevel = value; break;
            case "log-as-json": o.LogAsJson = value == "true"; break;
            case "enable-api-logging": o.EnableApiLogging = value == "true"; break;
            case "app-max-concurrency": o.AppMaxConcurrency = ParseInt(name, value); break;
            case "max-body-size":
            case "dapr-http-max-request-size": o.MaxBodySizeBytes = ParseSize(name, value); break;
            case "enable-app-health-check": o.EnableAppHealthCheck = value == "true"; break;
            case "app-health-check-path": o.AppHealthCheckPath = value; break;
            case "app-health-probe-interval": o.AppHealthProbeInterval = TimeSpan.FromSeconds(ParseInt(name, value)); break;
            case "app-health-probe-timeout": o.AppHealthProbeTimeout = TimeSpan.FromMilliseconds(ParseInt(name, value)); break;
            case "app-health-threshold": o.AppHealthThreshold = ParseInt(name, value); break;
            case "dapr-graceful-shutdown-seconds": o.GracefulShutdown = TimeSpan.FromSeconds(ParseInt(name, value)); break;
            case "placement-host-address": o.PlacementHostAddress = value; break;
            case "scheduler-host-address": o.SchedulerHostAddress = value; break;
            case "metrics-port": o.MetricsPort = value; break;
            case "mode":
                if (value != "standalone")
                {
                    throw new CommandLineException($"--mode {value} is not supported by the local sidecar (only standalone); use daprd on Kubernetes");
                }

                o.Mode = value;
                break;
            case "enable-metrics":
            case "enable-profiling":
            case "enable-mtls":
            case "app-ssl":
            case "profile-port":
            case "dapr-internal-grpc-port":
            case "sentry-address":
            case "control-plane-address":
                break;
            default:
                throw new CommandLineException($"flag provided but not defined: -{name}");
        }
    }

    private static int ParseInt(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new CommandLineException($"invalid value \"{value}\" for flag -{name}: parse error");

    private static bool ParseBool(string name, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "t" => true,
        "false" or "0" or "f" => false,
        _ => throw new CommandLineException($"invalid boolean value \"{value}\" for -{name}"),
    };

    /// <summary>Kubernetes-style quantities as daprd takes them: 4Mi, 512Ki, 1G, 1000.</summary>
    public static long ParseSize(string name, string value)
    {
        var units = new (string Suffix, long Factor)[]
        {
            ("Ki", 1024), ("Mi", 1024 * 1024), ("Gi", 1024L * 1024 * 1024),
            ("k", 1000), ("K", 1000), ("M", 1000 * 1000), ("G", 1000L * 1000 * 1000),
        };
        foreach (var (suffix, factor) in units)
        {
            if (value.EndsWith(suffix, StringComparison.Ordinal) &&
                long.TryParse(value[..^suffix.Length], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            {
                return n * factor;
            }
        }

        return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var plain)
            ? plain
            : throw new CommandLineException($"invalid size \"{value}\" for -{name} (use e.g. 4Mi)");
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

public class CommandLineException(string message) : Exception(message);

public sealed class CommandLineHelpException() : CommandLineException("help requested");
