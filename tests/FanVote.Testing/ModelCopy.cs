namespace FanVote.Testing;

/// <summary>
/// A private copy of the repository's promoted fraud model (ml-models/fraud/&lt;current&gt;), so a test can promote,
/// break or replace models without touching the repository's current.txt.
/// </summary>
public static class ModelCopy
{
    /// <summary>A new temp folder holding the promoted version and a current.txt naming it; the caller deletes it.</summary>
    public static string OfPromoted()
    {
        var source = Path.Combine(TestEnvironment.RepoRoot, "ml-models", "fraud");
        var version = File.ReadAllText(Path.Combine(source, "current.txt")).Trim();
        var root = Directory.CreateTempSubdirectory("fv-models-").FullName;
        CopyVersion(Path.Combine(source, version), Path.Combine(root, version));
        File.WriteAllText(Path.Combine(root, "current.txt"), version + "\n");
        return root;
    }

    /// <summary>The version the repository promotes.</summary>
    public static string PromotedVersion() =>
        File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "ml-models", "fraud", "current.txt")).Trim();

    public static void CopyVersion(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from))
        {
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
    }
}
