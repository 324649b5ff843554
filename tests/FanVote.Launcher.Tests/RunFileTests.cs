namespace FanVote.Launcher.Tests;

/// <summary>docs/dapr-subset.md §8.4 / §10 row 7: dapr.yaml loads with the Dapr CLI's precedence rules.</summary>
public sealed class RunFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fv-runfile-").FullName;
    private readonly string _home;

    public RunFileTests()
    {
        _home = Dir("home");
        Dir("components/local");
        Dir("components/special");
        File.WriteAllText(Path.Combine(_root, "components/local/config.yaml"), "kind: Configuration");
        Dir("services/ingress");
        Dir("services/tally/.dapr/resources");
        File.WriteAllText(Path.Combine(_root, "services/tally/.dapr/config.yaml"), "kind: Configuration");
        Dir("services/results/res");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Dir(string rel) => Directory.CreateDirectory(Path.Combine(_root, rel)).FullName;

    private IReadOnlyList<RunFileApp> Load(string yaml)
    {
        var file = Path.Combine(_root, "dapr.yaml");
        File.WriteAllText(file, yaml);
        return RunFile.Load(file, _home);
    }

    private const string Template = """
        version: 1
        common:
          resourcesPath: ./components/local
          configFilePath: ./components/local/config.yaml
          logLevel: info
          appHealthCheckPath: /healthz
          env: { ASPNETCORE_ENVIRONMENT: Development, SHARED: common }
        apps:
          - appID: ingress
            appDirPath: ./services/ingress
            appPort: 5080
            daprHTTPPort: 3501
            command: ["dotnet", "run", "--no-build"]
            env: { SHARED: app }
            logLevel: debug
          - appDirPath: ./services/tally
            appPort: 5101
          - appID: results
            appDirPath: ./services/results
            resourcesPaths: [./res]
            configFilePath: ../../components/special/../local/config.yaml
            enableAppHealthCheck: true
        """;

    [Fact]
    public void Load_AppResourcesPaths_WinAndResolveFromAppDir()
    {
        var results = Load(Template).Single(a => a.AppId == "results");

        Assert.Equal([Path.Combine(_root, "services/results/res")], results.ResourcesPaths);
        Assert.Equal(Path.Combine(_root, "components/local/config.yaml"), results.ConfigFile);
    }

    [Fact]
    public void Load_AppDirDotDapr_BeatsCommon()
    {
        var tally = Load(Template).Single(a => a.AppId == "tally");

        Assert.Equal([Path.Combine(_root, "services/tally/.dapr/resources")], tally.ResourcesPaths);
        Assert.Equal(Path.Combine(_root, "services/tally/.dapr/config.yaml"), tally.ConfigFile);
    }

    [Fact]
    public void Load_Common_UsedWhenAppSaysNothing_RelativeToRunFile()
    {
        var ingress = Load(Template).Single(a => a.AppId == "ingress");

        Assert.Equal([Path.Combine(_root, "components/local")], ingress.ResourcesPaths);
        Assert.Equal(Path.Combine(_root, "components/local/config.yaml"), ingress.ConfigFile);
    }

    [Fact]
    public void Load_NothingAnywhere_FallsBackToHomeDaprComponents()
    {
        var app = Assert.Single(Load("version: 1\napps:\n  - appDirPath: ./services/ingress\n"));

        Assert.Equal([Path.Combine(_home, ".dapr", "components")], app.ResourcesPaths);
        Assert.Equal(Path.Combine(_home, ".dapr", "config.yaml"), app.ConfigFile);
    }

    [Fact]
    public void Load_EnvAndSettings_AppOverridesCommon()
    {
        var apps = Load(Template);
        var ingress = apps.Single(a => a.AppId == "ingress");
        var tally = apps.Single(a => a.AppId == "tally");

        Assert.Equal("app", ingress.Env["SHARED"]);
        Assert.Equal("Development", ingress.Env["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("common", tally.Env["SHARED"]);
        Assert.Equal("debug", ingress.Setting("logLevel"));
        Assert.Equal("info", tally.Setting("logLevel"));
        Assert.Equal(["dotnet", "run", "--no-build"], ingress.Command);
        Assert.Equal(5080, ingress.AppPort);
        Assert.Equal(3501, ingress.DaprHttpPort);
    }

    [Fact]
    public void Load_AppIdDefaultsToAppDirBaseName()
    {
        Assert.Contains(Load(Template), a => a.AppId == "tally" && a.AppDirPath == Path.Combine(_root, "services/tally"));
    }

    [Fact]
    public void DaprdArgs_CarryPortsPathsAndSharedSettings()
    {
        var results = Load(Template).Single(a => a.AppId == "results");

        var args = results.DaprdArgs(3510, 50010);

        Assert.Equal(["--app-id", "results", "--dapr-http-port", "3510", "--dapr-grpc-port", "50010"], args.Take(6));
        Assert.Contains("--enable-app-health-check", args);
        Assert.Equal("/healthz", args[args.ToList().IndexOf("--app-health-check-path") + 1]);
        Assert.Equal(Path.Combine(_root, "services/results/res"), args[args.ToList().IndexOf("--resources-path") + 1]);
    }

    [Theory]
    [InlineData("apps:\n  - appDirPath: ./services/ingress\n", "version")]
    [InlineData("version: 1\napps:\n  - appID: x\n", "appDirPath")]
    [InlineData("version: 1\napps:\n  - appDirPath: ./services/nowhere\n", "does not exist")]
    [InlineData("version: 1\napps:\n  - { appID: a, appDirPath: ./services/ingress }\n  - { appID: a, appDirPath: ./services/tally }\n", "twice")]
    [InlineData("version: 1\napps:\n  - { appDirPath: ./services/ingress, appLogDestination: syslog }\n", "syslog")]
    public void Load_InvalidRunFile_SaysWhatIsWrong(string yaml, string expected)
    {
        var e = Assert.Throws<RunFileException>(() => Load(yaml));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
