using System.Text.Json;
using System.Text.Json.Serialization;

namespace FanVote.Fraud.Model;

/// <summary>How well a model separates fraud from legitimate votes on labelled data it was not trained on.</summary>
public sealed record ModelMetrics
{
    /// <summary>Area under the ROC curve (probability that a fraud vote outscores a legitimate one; ties count half).</summary>
    public required double Auc { get; init; }

    /// <summary>Share of fraud votes caught at the threshold where 0.1% of legitimate votes are caught.</summary>
    public required double RecallAt01PctFpr { get; init; }

    /// <summary>Share of fraud votes caught at the threshold where 1% of legitimate votes are caught.</summary>
    public required double RecallAt1PctFpr { get; init; }

    /// <summary>Of the votes at or above the 0.1%-FPR threshold, the share that is fraud.</summary>
    public required double PrecisionAt01PctFpr { get; init; }

    /// <summary>The score from which a vote counts as suspect at 0.1% FPR.</summary>
    public required double ThresholdAt01PctFpr { get; init; }

    public required double ThresholdAt1PctFpr { get; init; }

    public required long FraudVotes { get; init; }

    public required long LegitimateVotes { get; init; }
}

/// <summary>metrics.json beside every model.zip: what it is, what it expects, how it scored, what threshold to use.</summary>
public sealed record ModelInfo
{
    public const string FileName = "metrics.json";

    public required string Version { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>"fasttree" (supervised) or "randomized-pca" (anomaly detection, no labels).</summary>
    public required string Algorithm { get; init; }

    /// <summary><see cref="Core.FeatureSchema.Version"/> of the code that trained it; must match the serving code.</summary>
    public required string FeatureSchema { get; init; }

    public required IReadOnlyList<string> Features { get; init; }

    /// <summary>Score from which a vote is suspect (the held-out 0.1%-FPR threshold).</summary>
    public required double Threshold { get; init; }

    /// <summary>The chosen model's held-out metrics (null when it was trained without labels).</summary>
    public ModelMetrics? Metrics { get; init; }

    /// <summary>Every algorithm tried, with its held-out metrics (the best one was kept).</summary>
    public IReadOnlyDictionary<string, ModelMetrics> Candidates { get; init; } = new Dictionary<string, ModelMetrics>();

    /// <summary>What it was trained on: file, row counts, split, seed.</summary>
    public IReadOnlyDictionary<string, string> Training { get; init; } = new Dictionary<string, string>();

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static ModelInfo Read(string path) =>
        JsonSerializer.Deserialize<ModelInfo>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty");

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
}
