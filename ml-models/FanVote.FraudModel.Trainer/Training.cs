using System.Globalization;
using FanVote.Fraud.Core;
using FanVote.Fraud.Model;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FanVote.FraudModel.Trainer;

/// <summary>Which votes are held out of training to rate the model: those of one account in five, chosen by a stable hash.</summary>
public static class HeldOut
{
    public static bool Contains(string accountId) => StableHash.Of(accountId) % 5 == 0;
}

/// <summary>Knobs of `train`.</summary>
public sealed record TrainOptions
{
    public required string EventsPath { get; init; }

    /// <summary>The version folder to write (its name is the version).</summary>
    public required string OutDirectory { get; init; }

    public int Seed { get; init; } = 1;

    public int Trees { get; init; } = 200;

    public int Leaves { get; init; } = 24;

    public int PcaRank { get; init; } = 8;
}

/// <summary>
/// `train`: features for every vote (the service's extractor), a held-out fifth of the accounts, a randomized-PCA anomaly
/// model (trained on every training vote, labels unused) and, when labels exist, a FastTree classifier; both rated on
/// the held-out votes, the better one (recall at 0.1% FPR, then AUC) saved with its metrics, ROC curve and model card.
/// </summary>
public static class Training
{
    public const string Pca = "randomized-pca";
    public const string FastTree = "fasttree";

    public static ModelInfo Run(TrainOptions o, TextWriter output, TextWriter err)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(output);
        var version = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.OutDirectory)));
        if (!ModelStore.IsValidVersion(version))
        {
            throw new ArgumentException($"the output folder's name '{version}' is the model version: use letters, digits, '.', '-', '_'");
        }

        var table = FeatureTable.Build(FeatureTable.ReadCsv(o.EventsPath, err), err);
        var train = new List<int>();
        var test = new List<int>();
        for (var i = 0; i < table.Count; i++)
        {
            (HeldOut.Contains(table.Votes[i].Vote.AccountId) ? test : train).Add(i);
        }

        var labelledTrain = train.Where(i => table.Votes[i].IsFraud.HasValue).ToList();
        var labelledTest = test.Where(i => table.Votes[i].IsFraud.HasValue).ToList();
        var hasLabels = labelledTrain.Any(i => table.Votes[i].IsFraud == true) && labelledTest.Any(i => table.Votes[i].IsFraud == true) &&
                        labelledTest.Any(i => table.Votes[i].IsFraud == false);
        var ml = new MLContext(seed: o.Seed);
        var trainView = ml.Data.LoadFromEnumerable(train.Select(table.ToRow));
        var candidates = new Dictionary<string, (ITransformer Model, ModelMetrics? Metrics, float[] TestScores)>();

        var pca = Progress.Run("training randomized PCA", err, () => ml.Transforms.NormalizeLogMeanVariance(nameof(FeatureRow.Features), useCdf: false)
            .Append(ml.AnomalyDetection.Trainers.RandomizedPca(nameof(FeatureRow.Features), rank: o.PcaRank, oversampling: 20, ensureZeroMean: true, seed: o.Seed))
            .Fit(trainView));
        candidates[Pca] = Rate(ml, pca, table, hasLabels ? labelledTest : test, hasLabels);

        if (hasLabels)
        {
            var supervisedView = ml.Data.LoadFromEnumerable(labelledTrain.Select(table.ToRow));
            var tree = Progress.Run($"training FastTree ({o.Trees} trees)", err, () => ml.BinaryClassification.Trainers.FastTree(
                    labelColumnName: nameof(FeatureRow.Label), featureColumnName: nameof(FeatureRow.Features),
                    numberOfLeaves: o.Leaves, numberOfTrees: o.Trees, minimumExampleCountPerLeaf: 20, learningRate: 0.15)
                .Fit(supervisedView));
            candidates[FastTree] = Rate(ml, tree, table, labelledTest, hasLabels);
        }

        var best = hasLabels
            ? candidates.OrderByDescending(c => c.Value.Metrics!.RecallAt01PctFpr).ThenByDescending(c => c.Value.Metrics!.Auc).First()
            : candidates.First();
        var metrics = best.Value.Metrics;
        var threshold = metrics?.ThresholdAt01PctFpr ?? Unlabelled(best.Value.TestScores);

        Directory.CreateDirectory(o.OutDirectory);
        ml.Model.Save(best.Value.Model, trainView.Schema, Path.Combine(o.OutDirectory, RiskModel.ModelFile));
        var info = new ModelInfo
        {
            Version = version,
            CreatedAt = DateTimeOffset.UtcNow,
            Algorithm = best.Key,
            FeatureSchema = FeatureSchema.Version,
            Features = FeatureSchema.Names,
            Threshold = threshold,
            Metrics = metrics,
            Candidates = candidates.Where(c => c.Value.Metrics is not null).ToDictionary(c => c.Key, c => c.Value.Metrics!),
            Training = new Dictionary<string, string>
            {
                ["events"] = Path.GetFileName(o.EventsPath),
                ["votes"] = table.Count.ToString(CultureInfo.InvariantCulture),
                ["fraudVotes"] = table.Votes.Count(v => v.IsFraud == true).ToString(CultureInfo.InvariantCulture),
                ["unlabelledVotes"] = table.Votes.Count(v => v.IsFraud is null).ToString(CultureInfo.InvariantCulture),
                ["trainVotes"] = train.Count.ToString(CultureInfo.InvariantCulture),
                ["heldOutVotes"] = test.Count.ToString(CultureInfo.InvariantCulture),
                ["split"] = "held out: accounts whose FNV-1a hash % 5 == 0",
                ["seed"] = o.Seed.ToString(CultureInfo.InvariantCulture),
                ["trees"] = o.Trees.ToString(CultureInfo.InvariantCulture),
                ["leaves"] = o.Leaves.ToString(CultureInfo.InvariantCulture),
                ["pcaRank"] = o.PcaRank.ToString(CultureInfo.InvariantCulture),
            },
        };
        info.Write(Path.Combine(o.OutDirectory, ModelInfo.FileName));
        if (hasLabels)
        {
            var labels = labelledTest.Select(i => table.Votes[i].IsFraud == true).ToArray();
            RocSvg.Write(Path.Combine(o.OutDirectory, "roc.svg"), $"fraud model {version}: held-out ROC",
                candidates.Select(c => (c.Key, ScoreMetrics.Roc(c.Value.TestScores, labels))).ToList(), 0.001);
        }

        ModelCard.Write(Path.Combine(o.OutDirectory, "MODEL_CARD.md"), info, hasLabels);
        output.WriteLine($"model {version}: {best.Key} kept; threshold {threshold:G6}");
        foreach (var (name, c) in candidates)
        {
            output.WriteLine(c.Metrics is { } m
                ? $"  {name,-15} AUC {m.Auc:F4}  recall@0.1%FPR {m.RecallAt01PctFpr:P1}  recall@1%FPR {m.RecallAt1PctFpr:P1}  precision@0.1%FPR {m.PrecisionAt01PctFpr:P1}"
                : $"  {name,-15} (no labels: not rated)");
        }

        output.WriteLine($"wrote {Path.GetFullPath(o.OutDirectory)} (model.zip, metrics.json, {(hasLabels ? "roc.svg, " : "")}MODEL_CARD.md)");
        return info;
    }

    private static (ITransformer, ModelMetrics?, float[]) Rate(MLContext ml, ITransformer model, FeatureTable table, List<int> test, bool hasLabels)
    {
        var view = model.Transform(ml.Data.LoadFromEnumerable(test.Select(table.ToRow)));
        var scores = view.GetColumn<float>(nameof(ScoreRow.Score)).ToArray();
        return (model, hasLabels ? ScoreMetrics.Compute(scores, [.. test.Select(i => table.Votes[i].IsFraud == true)]) : null, scores);
    }

    /// <summary>Without labels, suspect is the top 0.1% of scores (fraud assumed rare).</summary>
    private static double Unlabelled(float[] scores) =>
        scores.Length == 0 ? double.PositiveInfinity : ScoreMetrics.ThresholdAt([.. scores.OrderDescending()], 0.001);
}
