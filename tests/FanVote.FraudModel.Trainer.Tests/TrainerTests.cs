using System.Text.Json;
using FanVote.Fraud.Core;
using FanVote.Fraud.Model;

namespace FanVote.FraudModel.Trainer.Tests;

/// <summary>
/// The trainer's reported metrics checked against an independent computation: the model is loaded the way the service
/// loads it, every vote re-scored, AUC counted over every (fraud, legitimate) pair and recall at a false-positive rate
/// found by walking the sorted legitimate scores.
/// </summary>
public sealed class TrainerTests(TrainerFixture fx) : IClassFixture<TrainerFixture>
{
    [Fact]
    public void Train_WritesModelMetricsRocAndCard()
    {
        foreach (var file in new[] { "model.zip", "metrics.json", "roc.svg", "MODEL_CARD.md" })
        {
            Assert.True(File.Exists(Path.Combine(fx.VersionDir, file)), $"{file} is missing");
        }

        var info = ModelInfo.Read(Path.Combine(fx.VersionDir, ModelInfo.FileName));
        Assert.Equal(TrainerFixture.Version, info.Version);
        Assert.Equal(FeatureSchema.Version, info.FeatureSchema);
        Assert.Equal(["fasttree", "randomized-pca"], info.Candidates.Keys.Order());
        Assert.Equal(info.Candidates[info.Algorithm], info.Metrics);
        Assert.True(info.Candidates.Values.All(m => info.Metrics!.RecallAt01PctFpr >= m.RecallAt01PctFpr), "the kept model is not the best one");
        Assert.StartsWith("<svg", File.ReadAllText(Path.Combine(fx.VersionDir, "roc.svg")), StringComparison.Ordinal);
        Assert.Contains("## Known limits", File.ReadAllText(Path.Combine(fx.VersionDir, "MODEL_CARD.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Train_ReportedHeldOutMetrics_MatchAnIndependentComputation()
    {
        var info = ModelInfo.Read(Path.Combine(fx.VersionDir, ModelInfo.FileName));
        var (scores, labels) = ScoreAll(fx.TrainCsv, v => HeldOut.Contains(v.AccountId));

        Assert.Equal(labels.Count(l => l), info.Metrics!.FraudVotes);
        Assert.Equal(labels.Count(l => !l), info.Metrics.LegitimateVotes);
        Assert.Equal(PairwiseAuc(scores, labels), info.Metrics.Auc, 6);
        Assert.Equal(RecallAtFpr(scores, labels, 0.001), info.Metrics.RecallAt01PctFpr, 6);
        Assert.Equal(RecallAtFpr(scores, labels, 0.01), info.Metrics.RecallAt1PctFpr, 6);
        Assert.Equal(info.Metrics.ThresholdAt01PctFpr, info.Threshold);
    }

    [Fact]
    public void Evaluate_OnANewSeed_ReportsWhatAnIndependentComputationFinds()
    {
        var json = Path.Combine(fx.Root, "eval.json");
        var printed = TrainerFixture.Run("evaluate", "--events", fx.HeldOutCsv, "--model", TrainerFixture.Version, "--models", fx.Models, "--out", json);
        var report = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(json));
        var m = report.GetProperty("metrics");
        var (scores, labels) = ScoreAll(fx.HeldOutCsv, _ => true);

        Assert.Equal(PairwiseAuc(scores, labels), m.GetProperty("auc").GetDouble(), 6);
        Assert.Equal(RecallAtFpr(scores, labels, 0.001), m.GetProperty("recallAt01PctFpr").GetDouble(), 6);
        Assert.Equal(RecallAtFpr(scores, labels, 0.01), m.GetProperty("recallAt1PctFpr").GetDouble(), 6);
        var precision = Precision(scores, labels, m.GetProperty("thresholdAt01PctFpr").GetDouble());
        Assert.Equal(precision, m.GetProperty("precisionAt01PctFpr").GetDouble(), 6);
        Assert.Contains("AUC", printed, StringComparison.Ordinal);
        // Even this small model (3,000 fans, 60 trees) separates the generated families well on a new seed.
        Assert.True(m.GetProperty("auc").GetDouble() > 0.95, printed);
    }

    [Fact]
    public void Generate_SameSeedSameFile_OtherSeedOtherFile()
    {
        var a = Path.Combine(fx.Root, "a.csv");
        var b = Path.Combine(fx.Root, "b.csv");
        TrainerFixture.Run("generate", "--out", a, "--seed", "7", "--size", "3000", "--attack-groups", "20");
        TrainerFixture.Run("generate", "--out", b, "--seed", "9", "--size", "3000", "--attack-groups", "20");

        Assert.Equal(File.ReadAllBytes(fx.TrainCsv), File.ReadAllBytes(a));
        Assert.NotEqual(File.ReadAllBytes(fx.TrainCsv), File.ReadAllBytes(b));
        var rows = VoteCsv.Read(new StringReader(File.ReadAllText(a))).ToList();
        Assert.True(rows.Count(r => r.IsFraud == true) > 100 && rows.Count(r => r.IsFraud == false) > 1000);
        Assert.Equal(rows.OrderBy(r => r.Vote.AcceptedAtMs).Select(r => r.Vote.VoteId), rows.Select(r => r.Vote.VoteId));
    }

    [Fact]
    public void Promote_WritesCurrent_RefusesUnknownAndMismatchedModels()
    {
        var root = Path.Combine(fx.Root, "promote");
        CopyDir(fx.VersionDir, Path.Combine(root, "good"));
        CopyDir(fx.VersionDir, Path.Combine(root, "old-features"));
        var stale = Path.Combine(root, "old-features", ModelInfo.FileName);
        File.WriteAllText(stale, File.ReadAllText(stale).Replace(FeatureSchema.Version, "f9-r1-0000000000000000", StringComparison.Ordinal));

        TrainerFixture.Run("promote", "good", "--models", root);
        Assert.Equal("good", new ModelStore(root).Current());

        var missing = TrainerFixture.Try("promote", "nope", "--models", root);
        Assert.Equal(1, missing.Code);
        Assert.Contains("holds no model", missing.Err, StringComparison.Ordinal);

        var mismatch = TrainerFixture.Try("promote", "old-features", "--models", root);
        Assert.Equal(1, mismatch.Code);
        Assert.Contains("retrain it", mismatch.Err, StringComparison.Ordinal);
        Assert.Equal("good", new ModelStore(root).Current());
        Assert.Contains("* good", TrainerFixture.Run("list", "--models", root), StringComparison.Ordinal);
    }

    [Fact]
    public void Cli_MissingOption_ExitsWithUsage()
    {
        var r = TrainerFixture.Try("train", "--events", fx.TrainCsv);
        Assert.Equal(2, r.Code);
        Assert.Contains("--out is required", r.Err, StringComparison.Ordinal);
    }

    /// <summary>Features in time order with the service's extractor, then the saved model, as the service would.</summary>
    private (float[] Scores, bool[] Labels) ScoreAll(string csv, Func<VoteInput, bool> include)
    {
        var votes = VoteCsv.Read(new StringReader(File.ReadAllText(csv))).OrderBy(v => v.Vote.AcceptedAtMs).ThenBy(v => v.Vote.VoteId).ToList();
        using var model = RiskModel.Load(fx.VersionDir);
        var x = new VelocityFeatures();
        var f = new float[FeatureSchema.Count];
        var scores = new List<float>();
        var labels = new List<bool>();
        foreach (var v in votes)
        {
            x.Extract(v.Vote, f);
            if (include(v.Vote) && v.IsFraud is { } label)
            {
                scores.Add(model.Score(f));
                labels.Add(label);
            }
        }

        return ([.. scores], [.. labels]);
    }

    /// <summary>Every (fraud, legitimate) pair: 1 when fraud scores higher, ½ on a tie.</summary>
    private static double PairwiseAuc(float[] scores, bool[] labels)
    {
        var fraud = scores.Where((_, i) => labels[i]).ToArray();
        var legit = scores.Where((_, i) => !labels[i]).ToArray();
        double wins = 0;
        foreach (var f in fraud)
        {
            foreach (var l in legit)
            {
                wins += f > l ? 1 : f == l ? 0.5 : 0;
            }
        }

        return wins / ((double)fraud.Length * legit.Length);
    }

    /// <summary>The largest recall whose threshold lets through at most ⌊fpr·n⌋ legitimate votes.</summary>
    private static double RecallAtFpr(float[] scores, bool[] labels, double fpr)
    {
        var legit = scores.Where((_, i) => !labels[i]).ToArray();
        var fraud = scores.Where((_, i) => labels[i]).ToArray();
        var allowed = (int)Math.Floor(fpr * legit.Length);
        var best = 0.0;
        foreach (var t in scores.Distinct())
        {
            if (legit.Count(l => l >= t) <= allowed)
            {
                best = Math.Max(best, (double)fraud.Count(f => f >= t) / fraud.Length);
            }
        }

        return best;
    }

    private static double Precision(float[] scores, bool[] labels, double threshold)
    {
        var tp = scores.Where((s, i) => labels[i] && s >= threshold).Count();
        var fp = scores.Where((s, i) => !labels[i] && s >= threshold).Count();
        return tp + fp == 0 ? 1 : (double)tp / (tp + fp);
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from))
        {
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
    }
}
