namespace FanVote.Fraud.Model;

/// <summary>
/// The folder of model versions (<c>ml-models/fraud/&lt;version&gt;/</c>) and <c>current.txt</c>, which names the promoted
/// one. Promotion replaces current.txt atomically (write aside, then rename), so a reader sees the old name or the new
/// one, never half of it.
/// </summary>
public sealed class ModelStore(string root)
{
    public const string CurrentFile = "current.txt";

    public string Root { get; } = Path.GetFullPath(root);

    public string CurrentPath => Path.Combine(Root, CurrentFile);

    /// <summary>ml-models/fraud in <paramref name="start"/> or the nearest folder above it that has one; null if none.</summary>
    public static string? Find(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "ml-models", "fraud");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public string VersionDirectory(string version)
    {
        if (!IsValidVersion(version))
        {
            throw new ArgumentException($"'{version}' is not a model version name (letters, digits, '.', '-', '_')", nameof(version));
        }

        return Path.Combine(Root, version);
    }

    /// <summary>The promoted version, or null when nothing is promoted yet.</summary>
    public string? Current() =>
        File.Exists(CurrentPath) && File.ReadAllText(CurrentPath).Trim() is { Length: > 0 } v ? v : null;

    public IReadOnlyList<string> Versions() =>
        Directory.Exists(Root)
            ? [.. Directory.EnumerateDirectories(Root).Where(d => File.Exists(Path.Combine(d, RiskModel.ModelFile))).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)]
            : [];

    /// <summary>Checks that <paramref name="version"/> loads with this code, then makes it current.</summary>
    public void Promote(string version)
    {
        using (RiskModel.Load(VersionDirectory(version)))
        {
        }

        var temp = Path.Combine(Root, $".{CurrentFile}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, version + "\n");
        File.Move(temp, CurrentPath, overwrite: true);
    }

    public static bool IsValidVersion(string version) =>
        version.Length is > 0 and <= 64 && version[0] != '.' && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
}
