using System.Diagnostics;
using FanVote.Testing;

namespace FanVote.Launcher.Tests;

/// <summary>
/// tilt/prewarm.sh against a stand-in `kubectl` (no cluster can run here) that keeps HPAs and Deployments as
/// files: what the script patches and scales, and that --reset restores the floors of tilt/k8s/&lt;app&gt;.yaml.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // bash and an executable stand-in on PATH
public sealed class PrewarmScriptTests : IDisposable
{
    private const string FakeKubectl = """
        #!/usr/bin/env bash
        # Stand-in kubectl: state under $KUBE_STATE/{hpa,deployment}/<name>.<field>; every call logged.
        set -euo pipefail
        echo "$*" >> "$KUBE_STATE/calls.log"
        [ "$1" = "-n" ] && shift 2
        verb="$1"; kind="$2"; name="$3"; shift 3
        dir="$KUBE_STATE/$kind"
        case "$verb" in
          get)
            [ -f "$dir/$name.exists" ] || exit 1
            case "${2:-}" in
              "") ;;
              "jsonpath={.spec.maxReplicas}") cat "$dir/$name.max" ;;
              "jsonpath={.spec.replicas}") cat "$dir/$name.replicas" ;;
              "jsonpath={.status.readyReplicas}") cat "$dir/$name.replicas" ;;
              *) echo "unexpected query $2" >&2; exit 2 ;;
            esac ;;
          patch)
            json="$4"
            echo "$json" | sed -E 's/.*"minReplicas":([0-9]+).*/\1/' > "$dir/$name.min"
            echo "$json" | sed -E 's/.*"maxReplicas":([0-9]+).*/\1/' > "$dir/$name.max" ;;
          scale)
            echo "${1#--replicas=}" > "$dir/$name.replicas" ;;
          *) echo "unexpected verb $verb" >&2; exit 2 ;;
        esac
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("fv-prewarm-").FullName;

    public PrewarmScriptTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "bin"));
        File.WriteAllText(Path.Combine(_root, "bin", "kubectl"), FakeKubectl);
        File.SetUnixFileMode(Path.Combine(_root, "bin", "kubectl"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var (app, min, max) in new[] { ("ingress", 2, 40), ("tally", 2, 12), ("results", 2, 20) })
        {
            Set("hpa", app, "exists", 1);
            Set("hpa", app, "min", min);
            Set("hpa", app, "max", max);
        }

        foreach (var (app, replicas) in new[] { ("ingress", 2), ("tally", 2), ("results", 2), ("orchestrator", 2), ("fraud", 2) })
        {
            Set("deployment", app, "exists", 1);
            Set("deployment", app, "replicas", replicas);
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Prewarm_RaisesHpaFloorsAndMaxWhereNeeded_ScalesTheRest()
    {
        var (code, output) = await RunAsync("ingress=20", "tally=15", "orchestrator=3");

        Assert.True(code == 0, output);
        Assert.Equal((20, 40), Hpa("ingress"));
        Assert.Equal((15, 15), Hpa("tally")); // maxReplicas raised to the floor
        Assert.Equal((2, 20), Hpa("results")); // not named: untouched
        Assert.Equal(20, Get("deployment", "ingress", "replicas"));
        Assert.Equal(15, Get("deployment", "tally", "replicas"));
        Assert.Equal(3, Get("deployment", "orchestrator", "replicas"));
        Assert.Contains("pre-warmed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reset_PutsBackTheFloorsOfTheManifests()
    {
        await RunAsync("ingress=20", "tally=15", "orchestrator=3");

        var (code, output) = await RunAsync("--reset");

        Assert.True(code == 0, output);
        Assert.Equal((2, 40), Hpa("ingress"));
        Assert.Equal((2, 12), Hpa("tally"));
        Assert.Equal(2, Get("deployment", "orchestrator", "replicas"));
        Assert.Equal(2, Get("deployment", "fraud", "replicas"));
    }

    [Fact]
    public async Task Prewarm_UnknownAppOrMalformedArgument_FailsWithoutTouchingAnything()
    {
        var (code, output) = await RunAsync("ingress=lots");
        var (code2, output2) = await RunAsync("payments=3");

        Assert.NotEqual(0, code);
        Assert.Contains("expected APP=COUNT", output, StringComparison.Ordinal);
        Assert.NotEqual(0, code2);
        Assert.Contains("no app 'payments'", output2, StringComparison.Ordinal);
        Assert.Equal((2, 40), Hpa("ingress"));
    }

    private (int Min, int Max) Hpa(string app) => (Get("hpa", app, "min"), Get("hpa", app, "max"));

    private int Get(string kind, string app, string field) =>
        int.Parse(File.ReadAllText(Path.Combine(_root, kind, $"{app}.{field}")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private void Set(string kind, string app, string field, int value)
    {
        Directory.CreateDirectory(Path.Combine(_root, kind));
        File.WriteAllText(Path.Combine(_root, kind, $"{app}.{field}"), value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(TestEnvironment.RepoRoot, "tilt", "prewarm.sh"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["PATH"] = Path.Combine(_root, "bin") + ":" + Environment.GetEnvironmentVariable("PATH");
        psi.Environment["KUBE_STATE"] = _root;
        psi.Environment["FANVOTE_PREWARM_TIMEOUT"] = "10";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (p.ExitCode, await stdout + await stderr);
    }
}
