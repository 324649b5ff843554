using System.Globalization;
using YamlDotNet.Serialization;

namespace FanVote.Launcher;

/// <summary>One app of dapr.yaml after the Dapr CLI's merge and precedence rules.</summary>
public sealed record RunFileApp(
    string AppId,
    string AppDirPath,
    int? AppPort,
    int? DaprHttpPort,
    int? DaprGrpcPort,
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<string> ResourcesPaths,
    string ConfigFile,
    string AppLogDestination,
    string DaprdLogDestination,
    IReadOnlyDictionary<string, string> Shared)
{
    /// <summary>Value of a shared setting (common overlaid by the app), e.g. "appHealthCheckPath".</summary>
    public string? Setting(string key) => Shared.TryGetValue(key, out var v) ? v : null;

    /// <summary>The daprd flags this app's sidecar gets (ports passed in because they may be allocated).</summary>
    public IReadOnlyList<string> DaprdArgs(int httpPort, int grpcPort)
    {
        var args = new List<string> { "--app-id", AppId, "--dapr-http-port", Num(httpPort), "--dapr-grpc-port", Num(grpcPort) };
        if (AppPort is { } p)
        {
            args.AddRange(["--app-port", Num(p)]);
        }

        foreach (var r in ResourcesPaths)
        {
            args.AddRange(["--resources-path", r]);
        }

        if (File.Exists(ConfigFile))
        {
            args.AddRange(["--config", ConfigFile]);
        }

        foreach (var (key, flag) in RunFile.SharedToDaprdFlag)
        {
            if (Setting(key) is { Length: > 0 } v)
            {
                if (RunFile.BoolSettings.Contains(key))
                {
                    if (bool.TryParse(v, out var b) && b)
                    {
                        args.Add(flag);
                    }
                }
                else
                {
                    args.AddRange([flag, v]);
                }
            }
        }

        return args;
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Parses dapr.yaml the way the Dapr CLI does (pkg/runfileconfig): `version` required; common paths relative to
/// the run file; each app's `appDirPath` relative to the run file and its other paths relative to `appDirPath`;
/// every given path must exist; shared settings and env: app &gt; common; resources: apps[i].resourcesPaths &gt;
/// appDirPath/.dapr/resources &gt; common.resourcesPaths &gt; ~/.dapr/components; config likewise with
/// appDirPath/.dapr/config.yaml and ~/.dapr/config.yaml; appID defaults to the base name of appDirPath.
/// </summary>
public static class RunFile
{
    internal static readonly IReadOnlyList<(string Key, string Flag)> SharedToDaprdFlag =
    [
        ("appProtocol", "--app-protocol"), ("appChannelAddress", "--app-channel-address"), ("logLevel", "--log-level"),
        ("appMaxConcurrency", "--app-max-concurrency"), ("maxBodySize", "--max-body-size"),
        ("enableApiLogging", "--enable-api-logging"), ("enableAppHealthCheck", "--enable-app-health-check"),
        ("appHealthCheckPath", "--app-health-check-path"), ("appHealthProbeInterval", "--app-health-probe-interval"),
        ("appHealthProbeTimeout", "--app-health-probe-timeout"), ("appHealthThreshold", "--app-health-threshold"),
        ("placementHostAddress", "--placement-host-address"), ("schedulerHostAddress", "--scheduler-host-address"),
    ];

    internal static readonly HashSet<string> BoolSettings = new(StringComparer.Ordinal) { "enableApiLogging", "enableAppHealthCheck" };

    private static readonly HashSet<string> NotShared = new(StringComparer.Ordinal)
    {
        "appID", "appDirPath", "appPort", "daprHTTPPort", "daprGRPCPort", "command", "env", "resourcesPath", "resourcesPaths",
        "configFilePath", "appLogDestination", "daprdLogDestination", "metricsPort", "profilePort", "daprInternalGRPCPort", "unixDomainSocket",
    };

    public static IReadOnlyList<RunFileApp> Load(string runFilePath, string? home = null)
    {
        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(runFilePath))!;
        Dictionary<object, object?> root;
        try
        {
            root = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object?>>(File.ReadAllText(runFilePath))
                ?? throw new RunFileException($"{runFilePath} is empty");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new RunFileException($"{runFilePath}: invalid YAML at line {e.Start.Line}: {e.Message}");
        }

        if (!int.TryParse(Str(root, "version"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var version) || version == 0)
        {
            throw new RunFileException($"required field 'version' not found in the provided run template file {runFilePath}");
        }

        var common = Map(root, "common");
        var commonResources = Paths(common, baseDir, runFilePath);
        var commonConfig = Resolve(baseDir, Str(common, "configFilePath"), runFilePath, home);
        var commonEnv = StrMap(common, "env");
        var commonShared = Shared(common);

        var apps = new List<RunFileApp>();
        foreach (var item in List(root, "apps").OfType<Dictionary<object, object?>>())
        {
            var dirRaw = Str(item, "appDirPath") ?? throw new RunFileException($"required field 'appDirPath' not found in an app of {runFilePath}");
            var appDir = Resolve(baseDir, dirRaw, runFilePath, home)!;
            var appId = Str(item, "appID") is { Length: > 0 } id ? id : Path.GetFileName(appDir.TrimEnd(Path.DirectorySeparatorChar));

            var resources = Paths(item, appDir, runFilePath);
            if (resources.Count == 0)
            {
                var local = Path.Combine(appDir, ".dapr", "resources");
                resources = Directory.Exists(local) ? [local] : commonResources.Count > 0 ? commonResources : [Path.Combine(home, ".dapr", "components")];
            }

            var config = Resolve(appDir, Str(item, "configFilePath"), runFilePath, home);
            if (config is null)
            {
                var local = Path.Combine(appDir, ".dapr", "config.yaml");
                config = File.Exists(local) ? local : commonConfig ?? Path.Combine(home, ".dapr", "config.yaml");
            }

            var env = new Dictionary<string, string>(commonEnv, StringComparer.Ordinal);
            foreach (var (k, v) in StrMap(item, "env"))
            {
                env[k] = v;
            }

            var shared = new Dictionary<string, string>(commonShared, StringComparer.Ordinal);
            foreach (var (k, v) in Shared(item))
            {
                shared[k] = v;
            }

            var command = List(item, "command").Select(x => x?.ToString() ?? "").ToList();
            apps.Add(new RunFileApp(
                appId,
                appDir,
                Int(item, "appPort"),
                Int(item, "daprHTTPPort"),
                Int(item, "daprGRPCPort"),
                command,
                env,
                resources,
                config,
                LogDestination(Str(item, "appLogDestination") ?? Str(common, "appLogDestination"), "console", runFilePath),
                LogDestination(Str(item, "daprdLogDestination") ?? Str(common, "daprdLogDestination"), "file", runFilePath),
                shared));
        }

        var duplicate = apps.GroupBy(a => a.AppId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? apps : throw new RunFileException($"{runFilePath}: app id '{duplicate.Key}' appears twice");
    }

    /// <summary>
    /// A region is a launcher flag, not a second copy of dapr.yaml: every app gets that region's resources folder
    /// and, when given, its Configuration file (components/&lt;region&gt;/config.yaml), both of which must exist.
    /// </summary>
    public static IReadOnlyList<RunFileApp> WithRegion(IReadOnlyList<RunFileApp> apps, string resourcesPath, string? configFile)
    {
        ArgumentNullException.ThrowIfNull(apps);
        var resources = Path.GetFullPath(resourcesPath);
        if (!Directory.Exists(resources))
        {
            throw new RunFileException($"resources folder {resources} does not exist");
        }

        var config = configFile is null ? null : Path.GetFullPath(configFile);
        if (config is not null && !File.Exists(config))
        {
            throw new RunFileException($"configuration file {config} does not exist");
        }

        return [.. apps.Select(a => a with { ResourcesPaths = [resources], ConfigFile = config ?? a.ConfigFile })];
    }

    private static string LogDestination(string? value, string fallback, string file) => value switch
    {
        null or "" => fallback,
        "file" or "console" or "fileAndConsole" => value,
        _ => throw new RunFileException($"{file}: log destination '{value}' is not one of file, console, fileAndConsole"),
    };

    private static List<string> Paths(Dictionary<object, object?> m, string baseDir, string file)
    {
        var result = List(m, "resourcesPaths").Select(p => Resolve(baseDir, p?.ToString(), file, null)!).ToList();
        if (Resolve(baseDir, Str(m, "resourcesPath"), file, null) is { } single)
        {
            result.Add(single);
        }

        return result;
    }

    private static string? Resolve(string baseDir, string? path, string file, string? home)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        if (path.StartsWith('~'))
        {
            path = Path.Combine(home ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.TrimStart('~', '/'));
        }

        var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(baseDir, path));
        return File.Exists(full) || Directory.Exists(full)
            ? full
            : throw new RunFileException($"{file}: path '{path}' (resolved to {full}) does not exist");
    }

    private static Dictionary<string, string> Shared(Dictionary<object, object?> m) =>
        m.Where(kv => kv.Value is not null and not Dictionary<object, object?> and not List<object?> && !NotShared.Contains(kv.Key.ToString()!))
            .ToDictionary(kv => kv.Key.ToString()!, kv => kv.Value!.ToString()!, StringComparer.Ordinal);

    private static Dictionary<object, object?> Map(Dictionary<object, object?> m, string key) =>
        m.TryGetValue(key, out var v) && v is Dictionary<object, object?> d ? d : [];

    private static List<object?> List(Dictionary<object, object?> m, string key) =>
        m.TryGetValue(key, out var v) && v is List<object?> l ? l : [];

    private static Dictionary<string, string> StrMap(Dictionary<object, object?> m, string key) =>
        Map(m, key).ToDictionary(kv => kv.Key.ToString()!, kv => kv.Value?.ToString() ?? "", StringComparer.Ordinal);

    private static string? Str(Dictionary<object, object?> m, string key) =>
        m.TryGetValue(key, out var v) && v is not null and not Dictionary<object, object?> and not List<object?> ? v.ToString() : null;

    private static int? Int(Dictionary<object, object?> m, string key) =>
        int.TryParse(Str(m, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
}

public class RunFileException(string message) : Exception(message);
