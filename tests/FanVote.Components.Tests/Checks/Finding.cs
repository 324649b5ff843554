namespace FanVote.Components.Tests.Checks;

/// <summary>One broken rule: which rule, where (a file, with a component or app when it helps), and what to fix.</summary>
public sealed record Finding(string Rule, string Where, string Message)
{
    public override string ToString() => $"[{Rule}] {Where}: {Message}";
}

/// <summary>The rule names findings carry, so a test can assert which rule fired.</summary>
public static class Rules
{
    public const string Names = "component-names";
    public const string Swap = "swap-only";
    public const string ActorStore = "actor-store";
    public const string Scopes = "scopes";
    public const string TopicScopes = "topic-scopes";
    public const string Tokens = "tokens";
    public const string Resiliency = "resiliency";
    public const string Metadata = "metadata";
    public const string Secrets = "secrets";
    public const string Configuration = "configuration";
    public const string Kustomization = "kustomization";
    public const string Residency = "residency";
    public const string DeadLetter = "dead-letter";
    public const string RunFile = "run-file";
    public const string Manifest = "manifest";
    public const string Probes = "probes";
    public const string Autoscaling = "autoscaling";
}
