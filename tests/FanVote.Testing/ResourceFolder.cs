namespace FanVote.Testing;

/// <summary>A temporary --resources-path folder of YAML files; deleted on dispose.</summary>
public sealed class ResourceFolder : IDisposable
{
    public ResourceFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fanvote-res-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public ResourceFolder With(string fileName, string yaml)
    {
        File.WriteAllText(System.IO.Path.Combine(Path, fileName), yaml);
        return this;
    }

    /// <summary>
    /// A copy of components/local/resources (what `./fanvote up` uses), so service tests run on the same YAML.
    /// The components read the Redis address from FANVOTE_REDIS_HOST, which <see cref="ServiceHost"/> sets.
    /// </summary>
    public static ResourceFolder LocalComponents()
    {
        var folder = new ResourceFolder();
        foreach (var f in Directory.EnumerateFiles(System.IO.Path.Combine(TestEnvironment.RepoRoot, "components", "local", "resources")))
        {
            File.Copy(f, System.IO.Path.Combine(folder.Path, System.IO.Path.GetFileName(f)));
        }

        return folder;
    }

    /// <summary>A state.redis component on the test Redis; keyPrefix and extra metadata lines optional.</summary>
    public ResourceFolder WithRedisState(string name = "statestore", bool actorStore = false, string extraMetadata = "") =>
        With($"{name}.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {name}
            spec:
              type: state.redis
              version: v1
              metadata:
              - name: redisHost
                value: "{TestEnvironment.Redis}"
              - name: actorStateStore
                value: "{(actorStore ? "true" : "false")}"
            {extraMetadata}
            """);

    /// <summary>A pubsub.redis component on the test Redis.</summary>
    public ResourceFolder WithRedisPubSub(string name = "pubsub", string extraMetadata = "") =>
        With($"{name}.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {name}
            spec:
              type: pubsub.redis
              version: v1
              metadata:
              - name: redisHost
                value: "{TestEnvironment.Redis}"
            {extraMetadata}
            """);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
