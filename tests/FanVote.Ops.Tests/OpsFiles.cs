using FanVote.Testing;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace FanVote.Ops.Tests;

/// <summary>The files under ops/ and their YAML shapes (only the fields the checks read).</summary>
internal static class OpsFiles
{
    public static string RulesPath => Path.Combine(TestEnvironment.RepoRoot, "ops", "prometheus", "fanvote-rules.yml");

    public static string RuleTestsPath => Path.Combine(TestEnvironment.RepoRoot, "ops", "prometheus", "fanvote-rules.test.yml");

    public static string DashboardPath => Path.Combine(TestEnvironment.RepoRoot, "ops", "grafana", "fanvote-dashboard.json");

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    public static RulesFile Rules() => Yaml.Deserialize<RulesFile>(File.ReadAllText(RulesPath));

    public static RuleTestsFile RuleTests() => Yaml.Deserialize<RuleTestsFile>(File.ReadAllText(RuleTestsPath));

    public static IEnumerable<Rule> AllRules(this RulesFile file) => file.Groups.SelectMany(g => g.Rules);
}

#pragma warning disable CA1812, CA2227 // instantiated and filled by YamlDotNet
internal sealed class RulesFile
{
    public List<RuleGroup> Groups { get; set; } = [];
}

internal sealed class RuleGroup
{
    public string Name { get; set; } = "";

    public List<Rule> Rules { get; set; } = [];
}

internal sealed class Rule
{
    public string? Record { get; set; }

    public string? Alert { get; set; }

    public string Expr { get; set; } = "";

    public string? For { get; set; }

    public Dictionary<string, string> Labels { get; set; } = [];

    public Dictionary<string, string> Annotations { get; set; } = [];
}

internal sealed class RuleTestsFile
{
    public List<string> RuleFiles { get; set; } = [];

    public List<string> GroupEvalOrder { get; set; } = [];

    public List<RuleTestGroup> Tests { get; set; } = [];
}

internal sealed class RuleTestGroup
{
    public string Name { get; set; } = "";

    public List<InputSeries> InputSeries { get; set; } = [];

    public List<AlertRuleTest> AlertRuleTest { get; set; } = [];
}

internal sealed class InputSeries
{
    public string Series { get; set; } = "";
}

internal sealed class AlertRuleTest
{
    public string EvalTime { get; set; } = "";

    public string Alertname { get; set; } = "";

    public List<ExpectedAlert> ExpAlerts { get; set; } = [];
}

internal sealed class ExpectedAlert
{
    public Dictionary<string, string> ExpLabels { get; set; } = [];

    public Dictionary<string, string> ExpAnnotations { get; set; } = [];
}
#pragma warning restore CA1812, CA2227
