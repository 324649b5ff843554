using System.Reflection;

namespace FanVote.Testing;

/// <summary>
/// Where the real Redis and PostgreSQL that tests use live, and where the built tools are. `./fanvote test`
/// starts private instances and exports FANVOTE_TEST_REDIS (host:port) and FANVOTE_TEST_PG (an Npgsql
/// connection string); run the tests through it, or export both yourself.
/// </summary>
public static class TestEnvironment
{
    public static string Redis => Require("FANVOTE_TEST_REDIS", "host:port of a Redis server, e.g. 127.0.0.1:6379");

    public static string Postgres => Require("FANVOTE_TEST_PG", "an Npgsql connection string, e.g. Host=127.0.0.1;Port=5432;Username=postgres;Database=fanvote_test");

    public static string RedisHost => Redis.Split(':')[0];

    public static int RedisPort => int.Parse(Redis.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The repository root (where FanVote.sln is), for reading components/, dapr.yaml and the like.</summary>
    public static string RepoRoot =>
        Meta(typeof(TestEnvironment).Assembly, "FanVoteRepoRoot") ?? throw new InvalidOperationException("FanVoteRepoRoot assembly metadata is missing");

    /// <summary>Path of a built project's main dll, e.g. <c>Artifacts("FanVote.Sidecar")</c>.</summary>
    public static string ProjectDll(string project)
    {
        var asm = Assembly.GetCallingAssembly();
        var root = Meta(asm, "FanVoteArtifactsPath") ?? Meta(typeof(TestEnvironment).Assembly, "FanVoteArtifactsPath")
            ?? throw new InvalidOperationException("FanVoteArtifactsPath assembly metadata is missing (tests/Directory.Build.props sets it)");
        var config = (Meta(asm, "FanVoteConfiguration") ?? "Debug").ToLowerInvariant();
        var dll = Path.Combine(root, "bin", project, config, project + ".dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{dll} was not built; add a ProjectReference (ReferenceOutputAssembly=false) to {project} in the test project", dll);
    }

    private static string? Meta(Assembly asm, string key) =>
        asm.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;

    private static string Require(string name, string what) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
            ? v
            : throw new InvalidOperationException($"{name} is not set: it must hold {what}. Run the tests with ./fanvote test, which starts private Redis and PostgreSQL and sets it.");
}
