using FanVote.Fraud.Model;

namespace FanVote.FraudModel.Trainer;

/// <summary>
/// Metrics of scores against labels, computed from the sorted scores (no ML.NET evaluator: the same code rates the
/// supervised and the anomaly model). "False-positive rate" is the share of legitimate votes at or above a threshold.
/// </summary>
public static class ScoreMetrics
{
    public static ModelMetrics Compute(IReadOnlyList<float> scores, IReadOnlyList<bool> fraud)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(fraud);
        var legit = scores.Where((_, i) => !fraud[i]).OrderDescending().ToArray();
        var bad = scores.Where((_, i) => fraud[i]).OrderDescending().ToArray();
        if (legit.Length == 0 || bad.Length == 0)
        {
            throw new InvalidOperationException("metrics need both fraud and legitimate labelled votes");
        }

        var t01 = ThresholdAt(legit, 0.001);
        var t1 = ThresholdAt(legit, 0.01);
        var tp01 = CountAtLeast(bad, t01);
        var fp01 = CountAtLeast(legit, t01);
        return new ModelMetrics
        {
            Auc = Auc(legit, bad),
            RecallAt01PctFpr = (double)tp01 / bad.Length,
            RecallAt1PctFpr = (double)CountAtLeast(bad, t1) / bad.Length,
            PrecisionAt01PctFpr = tp01 + fp01 == 0 ? 1 : (double)tp01 / (tp01 + fp01),
            ThresholdAt01PctFpr = t01,
            ThresholdAt1PctFpr = t1,
            FraudVotes = bad.Length,
            LegitimateVotes = legit.Length,
        };
    }

    /// <summary>
    /// The lowest threshold at which at most <paramref name="fpr"/> of the legitimate votes score at or above it:
    /// just above the (⌊fpr·n⌋+1)-th highest legitimate score. Ties can only make the real rate lower.
    /// </summary>
    public static double ThresholdAt(float[] legitDescending, double fpr)
    {
        ArgumentNullException.ThrowIfNull(legitDescending);
        var allowed = (int)Math.Floor(fpr * legitDescending.Length);
        return allowed >= legitDescending.Length ? double.NegativeInfinity : Math.BitIncrement((double)legitDescending[allowed]);
    }

    /// <summary>The ROC curve: (false-positive rate, true-positive rate) at every distinct score, from (0,0) to (1,1).</summary>
    public static List<(double Fpr, double Tpr)> Roc(IReadOnlyList<float> scores, IReadOnlyList<bool> fraud)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(fraud);
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double p = fraud.Count(f => f), n = fraud.Count - p;
        var points = new List<(double, double)> { (0, 0) };
        double tp = 0, fp = 0;
        for (var k = 0; k < order.Length; k++)
        {
            if (fraud[order[k]])
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (k == order.Length - 1 || scores[order[k + 1]] != scores[order[k]])
            {
                points.Add((fp / n, tp / p));
            }
        }

        return points;
    }

    private static int CountAtLeast(float[] descending, double threshold)
    {
        var n = 0;
        while (n < descending.Length && descending[n] >= threshold)
        {
            n++;
        }

        return n;
    }

    /// <summary>Mann-Whitney: over all (fraud, legit) pairs, the share where fraud scores higher, ties counting half.</summary>
    private static double Auc(float[] legitDescending, float[] badDescending)
    {
        var legit = legitDescending.Reverse().ToArray();
        double wins = 0;
        foreach (var s in badDescending)
        {
            var below = LowerBound(legit, s);
            var upTo = UpperBound(legit, s);
            wins += below + (0.5 * (upTo - below));
        }

        return wins / ((double)legit.Length * badDescending.Length);
    }

    private static int LowerBound(float[] ascending, float value)
    {
        int lo = 0, hi = ascending.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (ascending[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static int UpperBound(float[] ascending, float value)
    {
        int lo = 0, hi = ascending.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (ascending[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
