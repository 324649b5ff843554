namespace FanVote.FraudModel.Trainer.Tests;

/// <summary>One small generated training set and one model trained on it, shared by the trainer tests (training takes seconds).</summary>
public sealed class TrainerFixture : IDisposable
{
    public TrainerFixture()
    {
        Root = Directory.CreateTempSubdirectory("fv-trainer-").FullName;
        Models = Path.Combine(Root, "models");
        TrainCsv = Path.Combine(Root, "train.csv");
        HeldOutCsv = Path.Combine(Root, "heldout.csv");
        Run("generate", "--out", TrainCsv, "--seed", "7", "--size", "3000", "--attack-groups", "20"); // three groups of each attack family
        Run("generate", "--out", HeldOutCsv, "--seed", "8", "--size", "3000");
        Run("train", "--events", TrainCsv, "--out", Path.Combine(Models, Version), "--trees", "60");
    }

    public const string Version = "test-1";

    public string Root { get; }

    public string Models { get; }

    public string TrainCsv { get; }

    public string HeldOutCsv { get; }

    public string VersionDir => Path.Combine(Models, Version);

    public static (int Code, string Out, string Err) Try(params string[] args)
    {
        var output = new StringWriter();
        var err = new StringWriter();
        var code = Cli.Run(args, output, err);
        return (code, output.ToString(), err.ToString());
    }

    public static string Run(params string[] args)
    {
        var (code, output, err) = Try(args);
        return code == 0 ? output : throw new InvalidOperationException($"train {string.Join(' ', args)} exited {code}: {err}");
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
