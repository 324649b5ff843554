using System.Globalization;
using System.Text.Json;
using FanVote.Fraud.Core;
using FanVote.Fraud.Model;

namespace FanVote.FraudModel.Trainer;

/// <summary>The verbs of `./fanvote train`. <see cref="Run"/> returns the exit code; errors are one actionable line.</summary>
public static class Cli
{
    public const string Usage = """
        usage: ./fanvote train <verb> [options]

          generate --out FILE.csv [--seed N] [--size FANS] [--minutes M] [--candidates N] [--quota N]
                   [--campaigns N] [--campaign-share F] [--attack-groups N] [--families FILE.csv]
              synthetic labelled votes of one window: ordinary fans, fan campaigns (legitimate) and attack families;
              --families also writes vote_id,family (for evaluate --families)
          train --events FILE.csv --out ml-models/fraud/VERSION/ [--seed N] [--trees N] [--leaves N] [--pca-rank N]
              randomized PCA (no labels) and, with labels, FastTree; keeps the better on held-out accounts and writes
              model.zip, metrics.json, roc.svg and MODEL_CARD.md
          evaluate --events FILE.csv [--model VERSION] [--models DIR] [--out FILE.json] [--families FILE.csv] [--scores FILE.csv]
              AUC, recall at 0.1% and 1% false-positive rate, precision, of a model (default: the current one);
              with --families, what the model's threshold catches in each family; --scores writes every vote's
              features and score
          export --window ID --out FILE.csv [--pg CONNECTION]
              the vote ledger of one window from PostgreSQL (FANVOTE_PG_CONNECTION unless --pg), is_fraud left empty
          promote VERSION [--models DIR]
              make VERSION current: the running fraud service switches to it without a restart
          list [--models DIR]
              the versions and which one is current

        DIR defaults to the nearest ml-models/fraud at or above the current folder.
        """;

    public static int Run(string[] args, TextWriter output, TextWriter err)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(err);
        if (args.Length == 0 || args[0] is "help" or "-h" or "--help")
        {
            output.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            var o = Options.Parse(args[1..]);
            switch (args[0])
            {
                case "generate":
                    Generate(o, output, err);
                    break;
                case "train":
                    Training.Run(new TrainOptions
                    {
                        EventsPath = o.Required("events"),
                        OutDirectory = o.Required("out"),
                        Seed = o.Int("seed", 1),
                        Trees = o.Int("trees", 200),
                        Leaves = o.Int("leaves", 24),
                        PcaRank = o.Int("pca-rank", 8),
                    }, output, err);
                    break;
                case "evaluate":
                    Evaluate(o, output, err);
                    break;
                case "export":
                    Export.Run(o.Required("window"), o.Required("out"),
                        o.Get("pg") ?? Environment.GetEnvironmentVariable("FANVOTE_PG_CONNECTION")
                            ?? throw new UsageException("give --pg CONNECTION or set FANVOTE_PG_CONNECTION (an Npgsql connection string to the vote ledger)"),
                        output, err);
                    break;
                case "promote":
                    var version = o.Positional ?? throw new UsageException("promote needs a version: ./fanvote train promote VERSION");
                    var store = Store(o);
                    store.Promote(version);
                    output.WriteLine($"{version} is now current ({store.CurrentPath}); running fraud services switch to it within seconds");
                    break;
                case "list":
                    var s = Store(o);
                    var current = s.Current();
                    foreach (var v in s.Versions())
                    {
                        output.WriteLine($"{(v == current ? "*" : " ")} {v}");
                    }

                    break;
                default:
                    throw new UsageException($"unknown verb '{args[0]}'");
            }

            return 0;
        }
        catch (UsageException e)
        {
            err.WriteLine($"train: {e.Message}");
            err.WriteLine(Usage);
            return 2;
        }
        catch (Exception e) when (e is FormatException or IOException or ModelLoadException or ArgumentException or InvalidOperationException or UnauthorizedAccessException or Npgsql.NpgsqlException)
        {
            err.WriteLine($"train: {e.Message}");
            return 1;
        }
    }

    private static void Generate(Options o, TextWriter output, TextWriter err)
    {
        var options = new GeneratorOptions
        {
            Seed = o.Int("seed", 1),
            Fans = o.Int("size", 20_000),
            WindowMinutes = o.Int("minutes", 30),
            Candidates = o.Int("candidates", 6),
            VotesPerAccount = o.Int("quota", 50),
            Campaigns = o.Int("campaigns", 2),
            CampaignShare = o.Double("campaign-share", 0.15),
            AttackGroups = o.Int("attack-groups", 3),
        };
        var path = o.Required("out");
        var generator = new Generator(options);
        var votes = Progress.Run("generating", err, generator.Generate);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }

        using (var writer = new StreamWriter(path))
        using (var progress = new Progress($"writing {Path.GetFileName(path)}", votes.Count, err))
        {
            VoteCsv.WriteHeader(writer);
            for (var i = 0; i < votes.Count; i++)
            {
                VoteCsv.Write(writer, votes[i]);
                if ((i & 8191) == 0)
                {
                    progress.Report(i);
                }
            }
        }

        if (o.Get("families") is { } familiesPath)
        {
            using var families = new StreamWriter(familiesPath);
            families.Write("vote_id,family\n");
            foreach (var v in votes)
            {
                families.Write($"{v.Vote.VoteId:D},{generator.FamilyOf[v.Vote.VoteId]}\n");
            }
        }

        output.WriteLine($"{votes.Count:N0} votes ({votes.Count(v => v.IsFraud == true):N0} fraud) written to {path} (seed {options.Seed})");
        foreach (var (family, (n, fraud)) in generator.Families.OrderBy(f => f.Value.Fraud).ThenByDescending(f => f.Value.Votes))
        {
            output.WriteLine($"  {family,-16} {n,9:N0} {(fraud ? "fraud" : "legitimate")}");
        }
    }

    private static void Evaluate(Options o, TextWriter output, TextWriter err)
    {
        var events = o.Required("events");
        var store = Store(o);
        var version = o.Get("model") ?? store.Current() ?? throw new UsageException($"no --model given and nothing is promoted in {store.Root}");
        using var model = RiskModel.Load(store.VersionDirectory(version));
        var table = FeatureTable.Build(FeatureTable.ReadCsv(events, err), err);
        var scores = table.Score(model, err);
        var labelled = Enumerable.Range(0, table.Count).Where(i => table.Votes[i].IsFraud.HasValue).ToArray();
        var metrics = ScoreMetrics.Compute([.. labelled.Select(i => scores[i])], [.. labelled.Select(i => table.Votes[i].IsFraud == true)]);
        var suspect = labelled.Count(i => scores[i] >= model.Threshold && table.Votes[i].IsFraud == false);
        var caught = labelled.Count(i => scores[i] >= model.Threshold && table.Votes[i].IsFraud == true);
        var report = new Evaluation(version, Path.GetFileName(events), metrics, model.Threshold,
            (double)caught / metrics.FraudVotes, (double)suspect / metrics.LegitimateVotes);
        var path = o.Get("out") ?? Path.ChangeExtension(events, $".{version}.evaluation.json");
        File.WriteAllText(path, JsonSerializer.Serialize(report, ModelInfo.Json) + "\n");
        output.WriteLine($"model {version} on {Path.GetFileName(events)}: {metrics.FraudVotes:N0} fraud and {metrics.LegitimateVotes:N0} legitimate votes");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  AUC {metrics.Auc:F4}  recall@0.1%FPR {metrics.RecallAt01PctFpr:P2}  recall@1%FPR {metrics.RecallAt1PctFpr:P2}  precision@0.1%FPR {metrics.PrecisionAt01PctFpr:P2}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  at the model's own threshold {model.Threshold:G6}: recall {report.RecallAtModelThreshold:P2}, false-positive rate {report.FprAtModelThreshold:P3}"));
        if (o.Get("families") is { } familiesPath)
        {
            var family = File.ReadLines(familiesPath).Skip(1).Select(l => l.Split(',')).ToDictionary(f => Guid.Parse(f[0]), f => f[1]);
            foreach (var g in labelled.GroupBy(i => family.GetValueOrDefault(table.Votes[i].Vote.VoteId, "(unknown)")).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var over = g.Count(i => scores[i] >= model.Threshold);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {g.Key,-16} {g.Count(),8:N0} votes, {over,7:N0} at or above the threshold ({(double)over / g.Count():P2}, {(table.Votes[g.First()].IsFraud == true ? "recall" : "false positives")})"));
            }
        }

        if (o.Get("scores") is { } scoresPath)
        {
            // One row per vote: what the model saw and said, for a data scientist to look into a family or a miss.
            using var w = new StreamWriter(scoresPath);
            w.WriteLine("vote_id,account_id,accepted_at_ms,is_fraud,score," + string.Join(',', FeatureSchema.Names));
            for (var i = 0; i < table.Count; i++)
            {
                var v = table.Votes[i];
                w.Write(string.Create(CultureInfo.InvariantCulture, $"{v.Vote.VoteId},{v.Vote.AccountId},{v.Vote.AcceptedAtMs},{(v.IsFraud is { } f ? (f ? "1" : "0") : "")},{scores[i]:G6}"));
                foreach (var x in table.Row(i))
                {
                    w.Write(string.Create(CultureInfo.InvariantCulture, $",{x:G6}"));
                }

                w.WriteLine();
            }

            output.WriteLine($"wrote {scoresPath}");
        }

        output.WriteLine($"wrote {path}");
    }

    private static ModelStore Store(Options o) =>
        new(o.Get("models") ?? ModelStore.Find(Directory.GetCurrentDirectory()) ?? Path.Combine("ml-models", "fraud"));

    /// <summary>What `evaluate` writes.</summary>
    public sealed record Evaluation(string Model, string Events, ModelMetrics Metrics, double ModelThreshold, double RecallAtModelThreshold, double FprAtModelThreshold);

    private sealed class UsageException(string message) : Exception(message);

    /// <summary>`--name value` pairs and at most one positional argument.</summary>
    private sealed class Options
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

        public string? Positional { get; private set; }

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (var i = 0; i < args.Length; i++)
            {
                if (args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    if (i + 1 >= args.Length)
                    {
                        throw new UsageException($"{args[i]} needs a value");
                    }

                    o._values[args[i][2..]] = args[++i];
                }
                else if (o.Positional is null)
                {
                    o.Positional = args[i];
                }
                else
                {
                    throw new UsageException($"unexpected argument '{args[i]}'");
                }
            }

            return o;
        }

        public string? Get(string name) => _values.GetValueOrDefault(name);

        public string Required(string name) => Get(name) ?? throw new UsageException($"--{name} is required");

        public int Int(string name, int fallback) =>
            Get(name) is not { } v ? fallback
            : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
            : throw new UsageException($"--{name} must be a whole number, not '{v}'");

        public double Double(string name, double fallback) =>
            Get(name) is not { } v ? fallback
            : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n
            : throw new UsageException($"--{name} must be a number, not '{v}'");
    }
}
