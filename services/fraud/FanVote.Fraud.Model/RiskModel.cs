using FanVote.Fraud.Core;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FanVote.Fraud.Model;

/// <summary>The model's input row: the feature vector and (for training and evaluation only) the label.</summary>
public sealed class FeatureRow
{
    [VectorType(FeatureSchema.Count)]
    public float[] Features { get; set; } = new float[FeatureSchema.Count];

    public bool Label { get; set; }
}

/// <summary>The column every FanVote fraud model writes: higher is riskier.</summary>
public sealed class ScoreRow
{
    public float Score { get; set; }
}

/// <summary>A model file could not be used; the message says why and what to do.</summary>
public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One loaded model version: the ML.NET transformer, its metrics.json, and one prediction engine. Not thread-safe
/// (a PredictionEngine is not): one instance per scoring thread; <see cref="Load"/> is cheap enough to call per thread.
/// </summary>
public sealed class RiskModel : IDisposable
{
    public const string ModelFile = "model.zip";
    private readonly PredictionEngine<FeatureRow, ScoreRow> _engine;
    private readonly FeatureRow _row = new();
    private readonly ScoreRow _score = new();

    private RiskModel(MLContext ml, ITransformer transformer, ModelInfo info)
    {
        Ml = ml;
        Transformer = transformer;
        Info = info;
        _engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoreRow>(transformer);
    }

    public MLContext Ml { get; }

    public ITransformer Transformer { get; }

    public ModelInfo Info { get; }

    public string Version => Info.Version;

    public double Threshold => Info.Threshold;

    /// <summary>
    /// Loads model.zip and metrics.json from <paramref name="directory"/>, refusing a model trained on another feature
    /// schema (its scores would mean nothing for the features this code computes).
    /// </summary>
    public static RiskModel Load(string directory)
    {
        var infoPath = Path.Combine(directory, ModelInfo.FileName);
        var zipPath = Path.Combine(directory, ModelFile);
        if (!File.Exists(infoPath) || !File.Exists(zipPath))
        {
            throw new ModelLoadException($"{directory} holds no model: it needs {ModelFile} and {ModelInfo.FileName} (train one with ./fanvote train train)");
        }

        ModelInfo info;
        try
        {
            info = ModelInfo.Read(infoPath);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or IOException)
        {
            throw new ModelLoadException($"{infoPath} cannot be read: {e.Message}", e);
        }

        if (info.FeatureSchema != FeatureSchema.Version)
        {
            throw new ModelLoadException(
                $"model {info.Version} was trained on features {info.FeatureSchema} but this code computes {FeatureSchema.Version}: retrain it with this version of the trainer");
        }

        var ml = new MLContext(seed: 1);
        try
        {
            var transformer = ml.Model.Load(zipPath, out _);
            return new RiskModel(ml, transformer, info);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or IOException or ArgumentException or InvalidDataException)
        {
            throw new ModelLoadException($"{zipPath} is not a loadable ML.NET model: {e.Message}", e);
        }
    }

    /// <summary>Scores one feature vector (higher is riskier).</summary>
    public float Score(ReadOnlySpan<float> features)
    {
        features[..FeatureSchema.Count].CopyTo(_row.Features);
        var output = _score; // the engine writes into the instance it is given: no allocation per vote
        _engine.Predict(_row, ref output);
        return output.Score;
    }

    /// <summary>Scores <paramref name="rows"/> vectors laid out one after another in <paramref name="features"/>.</summary>
    public void Score(ReadOnlySpan<float> features, int rows, Span<float> scores)
    {
        for (var i = 0; i < rows; i++)
        {
            scores[i] = Score(features.Slice(i * FeatureSchema.Count, FeatureSchema.Count));
        }
    }

    public void Dispose() => _engine.Dispose();
}
