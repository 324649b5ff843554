using System.Reflection;
using FanVote.Components.Tests.Checks;

namespace FanVote.Components.Tests;

/// <summary>
/// A copy of what the static checks read (components/, tilt/, dapr.yaml and the services' sources) in a temp
/// folder, to break one thing on purpose and see that the check names exactly that.
/// </summary>
public sealed class TreeCopy : IDisposable
{
    public TreeCopy()
    {
        Root = Directory.CreateTempSubdirectory("fv-tree-").FullName;
        CopyDir("components", _ => true);
        CopyDir("tilt", _ => true);
        CopyDir("services", f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal));
        CopyDir("workflows", f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal));
        File.Copy(Path.Combine(RepoRoot, "dapr.yaml"), Path.Combine(Root, "dapr.yaml"));
    }

    /// <summary>The checkout these tests were built from (tests/Directory.Build.props records it).</summary>
    public static string RepoRoot { get; } = typeof(TreeCopy).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "FanVoteRepoRoot").Value!;

    public static RepoTree Real { get; } = new(RepoRoot);

    public string Root { get; }

    public RepoTree Tree => new(Root);

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Replaces <paramref name="from"/> (which must occur) with <paramref name="to"/> in one file.</summary>
    public TreeCopy Edit(string relative, string from, string to)
    {
        var file = PathOf(relative);
        var text = File.ReadAllText(file);
        Assert.Contains(from, text, StringComparison.Ordinal); // a break that does not apply proves nothing
        File.WriteAllText(file, text.Replace(from, to, StringComparison.Ordinal));
        return this;
    }

    public TreeCopy Write(string relative, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(relative))!);
        File.WriteAllText(PathOf(relative), text);
        return this;
    }

    public TreeCopy Delete(string relative)
    {
        File.Delete(PathOf(relative));
        return this;
    }

    public Region Region(string name) => Tree.Regions().Single(r => r.Name == name);

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private void CopyDir(string relative, Func<string, bool> take)
    {
        var from = Path.Combine(RepoRoot, relative);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(RepoRoot, file);
            if (rel.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj") || !take(file))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(PathOf(rel))!);
            File.Copy(file, PathOf(rel));
        }
    }
}

/// <summary>Asserts a check reported exactly the expected findings (rule, place, and a phrase of the message).</summary>
public static class Expect
{
    public static void Only(IEnumerable<Finding> actual, params (string Rule, string Where, string Says)[] expected)
    {
        var list = actual.ToList();
        var shown = string.Join("\n", list);
        Assert.True(list.Count == expected.Length, $"expected {expected.Length} finding(s), got {list.Count}:\n{shown}");
        foreach (var (rule, where, says) in expected)
        {
            Assert.True(
                list.Any(f => f.Rule == rule && f.Where == where && f.Message.Contains(says, StringComparison.Ordinal)),
                $"expected [{rule}] {where}: ...{says}...; got:\n{shown}");
        }
    }

    public static void None(IEnumerable<Finding> actual)
    {
        var list = actual.ToList();
        Assert.True(list.Count == 0, "unexpected findings:\n" + string.Join("\n", list));
    }
}
