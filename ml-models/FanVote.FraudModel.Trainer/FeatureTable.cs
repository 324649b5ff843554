using FanVote.Fraud.Core;
using FanVote.Fraud.Model;

namespace FanVote.FraudModel.Trainer;

/// <summary>Every vote's feature vector, computed by the service's extractor over the votes in time order.</summary>
internal sealed class FeatureTable
{
    private FeatureTable(float[] features, LabelledVote[] votes)
    {
        Features = features;
        Votes = votes;
    }

    /// <summary><see cref="FeatureSchema.Count"/> floats per vote, vote after vote.</summary>
    public float[] Features { get; }

    public LabelledVote[] Votes { get; }

    public int Count => Votes.Length;

    public ReadOnlySpan<float> Row(int i) => Features.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count);

    public static FeatureTable Build(IEnumerable<LabelledVote> votes, TextWriter err)
    {
        var sorted = votes.OrderBy(v => v.Vote.AcceptedAtMs).ThenBy(v => v.Vote.VoteId).ToArray();
        var features = new float[sorted.Length * FeatureSchema.Count];
        var extractor = new VelocityFeatures();
        using var progress = new Progress("features", sorted.Length, err);
        for (var i = 0; i < sorted.Length; i++)
        {
            extractor.Extract(sorted[i].Vote, features.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count));
            if ((i & 4095) == 0)
            {
                progress.Report(i);
            }
        }

        return new FeatureTable(features, sorted);
    }

    public static IReadOnlyList<LabelledVote> ReadCsv(string path, TextWriter err)
    {
        using var stream = File.OpenRead(path);
        using var reader = new StreamReader(stream);
        using var progress = new Progress($"reading {Path.GetFileName(path)}", stream.Length, err);
        var rows = new List<LabelledVote>();
        foreach (var row in VoteCsv.Read(reader))
        {
            rows.Add(row);
            if ((rows.Count & 8191) == 0)
            {
                progress.Report(stream.Position);
            }
        }

        return rows;
    }

    public FeatureRow ToRow(int i)
    {
        var row = new FeatureRow { Label = Votes[i].IsFraud == true };
        Row(i).CopyTo(row.Features);
        return row;
    }

    /// <summary>Scores every vote with <paramref name="model"/>.</summary>
    public float[] Score(RiskModel model, TextWriter err)
    {
        var scores = new float[Count];
        using var progress = new Progress($"scoring with {model.Version}", Count, err);
        for (var i = 0; i < Count; i++)
        {
            scores[i] = model.Score(Row(i));
            if ((i & 4095) == 0)
            {
                progress.Report(i);
            }
        }

        return scores;
    }
}
