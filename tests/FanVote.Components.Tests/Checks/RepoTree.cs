namespace FanVote.Components.Tests.Checks;

/// <summary>A region folder of components/: its resources (as written) and its config.yaml.</summary>
public sealed record Region(
    string Name,
    string Dir,
    IReadOnlyList<ComponentDoc> Components,
    IReadOnlyList<ResiliencyDoc> Resiliencies,
    IReadOnlyList<SubscriptionDoc> Subscriptions,
    YamlDoc? Configuration)
{
    /// <summary>components/local is the loopback folder of one machine; the others are regions a cluster runs.</summary>
    public bool IsLocal => Name == "local";

    public string ResourcesDir => Path.Combine(Dir, "resources");

    public string ConfigFile => Path.Combine(Dir, "config.yaml");
}

/// <summary>One app of dapr.yaml.</summary>
public sealed record RunApp(string AppId, string AppDir, int? AppPort, string? HealthCheckPath);

/// <summary>A tilt/k8s/&lt;app&gt;.yaml file: its documents and the Deployment in it.</summary>
public sealed record Manifest(string File, IReadOnlyList<YamlDoc> Docs)
{
    public string AppFileName => Path.GetFileNameWithoutExtension(File);

    public YamlDoc? Deployment => Docs.FirstOrDefault(d => d.Kind == "Deployment");

    public IReadOnlyDictionary<string, object?> Annotations => YamlDoc.Map(Deployment?.At("spec.template.metadata"), "annotations");

    public string? Annotation(string key) => YamlDoc.Str(Annotations, key);

    public string? AppId => Annotation("dapr.io/app-id");
}

/// <summary>
/// The parts of a FanVote checkout the static checks read, from any root: the real repository or a broken copy
/// of it. Nothing is cached, so a test can edit a copy and check again.
/// </summary>
public sealed class RepoTree(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Rel(string path) => Path.GetRelativePath(Root, path);

    public IReadOnlyList<Region> Regions()
    {
        var dir = Path.Combine(Root, "components");
        return [.. Directory.EnumerateDirectories(dir)
            .Where(d => Directory.Exists(Path.Combine(d, "resources")))
            .Order(StringComparer.Ordinal)
            .Select(LoadRegion)];
    }

    public IReadOnlyList<RunApp> RunApps()
    {
        var file = Path.Combine(Root, "dapr.yaml");
        var doc = YamlDoc.ReadAll(file).Single();
        var common = YamlDoc.Map(doc.Root, "common");
        var apps = new List<RunApp>();
        foreach (var app in YamlDoc.List(doc.Root, "apps").OfType<IReadOnlyDictionary<string, object?>>())
        {
            var dirRaw = YamlDoc.Str(app, "appDirPath") ?? "";
            var appDir = Path.GetFullPath(Path.Combine(Root, dirRaw));
            var id = YamlDoc.Str(app, "appID") ?? Path.GetFileName(appDir.TrimEnd(Path.DirectorySeparatorChar));
            apps.Add(new RunApp(
                id,
                appDir,
                int.TryParse(YamlDoc.Str(app, "appPort"), System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : null,
                YamlDoc.Str(app, "appHealthCheckPath") ?? YamlDoc.Str(common, "appHealthCheckPath")));
        }

        return apps;
    }

    public string ManifestDir => Path.Combine(Root, "tilt", "k8s");

    /// <summary>Every tilt/k8s/*.yaml that holds a Deployment (namespace.yaml and kustomization.yaml do not).</summary>
    public IReadOnlyList<Manifest> Manifests() =>
        [.. Directory.EnumerateFiles(ManifestDir, "*.yaml")
            .Order(StringComparer.Ordinal)
            .Select(f => new Manifest(f, YamlDoc.ReadAll(f)))
            .Where(m => m.Deployment is not null)];

    /// <summary>The C# sources of the services (services/ and workflows/), for the source scans.</summary>
    public IReadOnlyList<string> ServiceSources() =>
        [.. new[] { "services", "workflows" }
            .Select(d => Path.Combine(Root, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal)];

    private Region LoadRegion(string dir)
    {
        var docs = Directory.EnumerateFiles(Path.Combine(dir, "resources"))
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .SelectMany(YamlDoc.ReadAll)
            .ToList();
        var config = Path.Combine(dir, "config.yaml");
        return new Region(
            Path.GetFileName(dir),
            dir,
            [.. docs.Where(d => d.Kind == "Component").Select(ComponentDoc.From)],
            [.. docs.Where(d => d.Kind == "Resiliency").Select(ResiliencyDoc.From)],
            [.. docs.Where(d => d.Kind == "Subscription").Select(SubscriptionDoc.From)],
            File.Exists(config) ? YamlDoc.ReadAll(config) is [var first, ..] ? first : null : null);
    }
}
