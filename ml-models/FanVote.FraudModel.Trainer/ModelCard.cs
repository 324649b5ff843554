using System.Globalization;
using System.Text;
using FanVote.Fraud.Core;
using FanVote.Fraud.Model;

namespace FanVote.FraudModel.Trainer;

/// <summary>MODEL_CARD.md: data, features, metrics, threshold and known limits of one model version.</summary>
internal static class ModelCard
{
    private static readonly Dictionary<string, string> Definitions = new()
    {
        ["acct_votes_10s"] = "votes by the account in its current 1-s bucket and the 9 before (incl. this vote)",
        ["acct_votes_60s"] = "votes by the account in its current 10-s bucket and the 5 before",
        ["acct_votes_10m"] = "votes by the account in its current 1-min bucket and the 9 before",
        ["dev_votes_10s"] = "as acct_votes_10s, for the device id",
        ["dev_votes_60s"] = "as acct_votes_60s, for the device id",
        ["dev_votes_10m"] = "as acct_votes_10m, for the device id",
        ["ip_votes_10s"] = "as acct_votes_10s, for the IP prefix (/24, /48)",
        ["ip_votes_60s"] = "as acct_votes_60s, for the IP prefix",
        ["ip_votes_10m"] = "as acct_votes_10m, for the IP prefix",
        ["dev_accounts_10m"] = "distinct accounts seen on the device in the last 10 min (exact up to 64)",
        ["ip_accounts_10m"] = "distinct accounts seen on the IP prefix in the last 10 min (exact up to 64)",
        ["ip_fresh_account_share"] = "share of those accounts younger than a day",
        ["acct_gap_cv"] = "coefficient of variation of the gaps between the account's last ≤9 votes within 10 min (1 when < 2 gaps)",
        ["acct_gap_count"] = "number of gaps that CV is computed from (0-8)",
        ["acct_gap_mean_log"] = "ln(1 + mean gap in seconds)",
        ["dev_gap_cv"] = "as acct_gap_cv, for the device",
        ["dev_gap_count"] = "as acct_gap_count, for the device",
        ["acct_candidate_share"] = "share of the account's last ≤16 votes within 10 min that went to this vote's candidate",
        ["dev_candidate_share"] = "the same for the device",
        ["ip_candidate_share"] = "the same for the IP prefix",
        ["acct_ip_prefixes_10m"] = "distinct IP prefixes the account voted from in the last 10 min (up to 8)",
        ["acct_devices_10m"] = "distinct device ids the account voted from in the last 10 min (up to 8)",
        ["account_age_log"] = "ln(1 + account age in minutes) at the vote",
    };

    public static string Define(string feature) => Definitions.TryGetValue(feature, out var d) ? d : "";

    public static void Write(string path, ModelInfo info, bool labelled)
    {
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.Append(inv, $"# Fraud model {info.Version}\n\n");
        md.Append(inv, $"Trained {info.CreatedAt:u} by `./fanvote train train` from `{info.Training.GetValueOrDefault("events")}`. ");
        md.Append(inv, $"Kept: **{info.Algorithm}** (the better of the candidates below on the held-out votes). ");
        md.Append(inv, $"A vote is suspect when its score is at least **{info.Threshold:G6}** ");
        md.Append(labelled ? "(the held-out 0.1% false-positive-rate threshold).\n\n" : "(top 0.1% of held-out scores: the data had no labels).\n\n");

        md.Append("## Data\n\n| what | value |\n| --- | --- |\n");
        foreach (var (k, v) in info.Training)
        {
            md.Append(inv, $"| {k} | {v} |\n");
        }

        md.Append("\n## Features\n\nComputed per vote by `FanVote.Fraud.Core.VelocityFeatures` (the fraud service runs the same code on the live stream), ");
        md.Append(inv, $"schema `{info.FeatureSchema}`; windows run on the votes' accepted_at times.\n\n| # | feature | definition |\n| --- | --- | --- |\n");
        for (var i = 0; i < info.Features.Count; i++)
        {
            md.Append(inv, $"| {i} | `{info.Features[i]}` | {Define(info.Features[i])} |\n");
        }

        md.Append("\n## Metrics (held-out accounts)\n\n");
        if (info.Candidates.Count == 0)
        {
            md.Append("No labelled votes: the model was not rated. Rate it with `./fanvote train evaluate --events LABELLED.csv --model ")
              .Append(info.Version).Append("`.\n");
        }
        else
        {
            md.Append("| model | AUC | recall @ 0.1% FPR | recall @ 1% FPR | precision @ 0.1% FPR | fraud / legit votes |\n| --- | --- | --- | --- | --- | --- |\n");
            foreach (var (name, m) in info.Candidates)
            {
                md.Append(inv, $"| {name}{(name == info.Algorithm ? " (kept)" : "")} | {m.Auc:F4} | {m.RecallAt01PctFpr:P1} | {m.RecallAt1PctFpr:P1} | {m.PrecisionAt01PctFpr:P1} | {m.FraudVotes:N0} / {m.LegitimateVotes:N0} |\n");
            }

            md.Append("\nFPR = share of legitimate votes (ordinary fans and fan campaigns together) at or above the threshold. ROC curve: `roc.svg`.\n");
        }

        md.Append("""

            ## Known limits

            - **Synthetic training data.** The generator's families are separable by construction: a device farm shows many
              accounts per device, a metronome shows near-zero gap variation, a slow drip changes IP prefix every vote. Real
              attackers adapt to what is measured; metrics on generated data are an upper bound. Retrain on exported,
              reviewed windows (`./fanvote train export`) as soon as labelled incidents exist.
            - **First votes are invisible.** Every feature needs history: an account's first vote, or a farm's first few
              accounts, look like anybody's. The verdict rules (two suspect votes) add a little more delay.
            - **Shared networks.** Carrier NAT and venue Wi-Fi put thousands of real fans behind one IP prefix, so prefix
              counts are weak evidence and no verdict is ever issued against a prefix.
            - **Families it has not seen.** A supervised model may miss a new attack pattern; the randomized-PCA candidate
              needs no labels but separates far less well here. Compare both in metrics.json after every retrain.
            - **Event time.** Features run on ingress's accepted_at; large clock skew between ingress instances would blur
              the regularity features.

            """);
        File.WriteAllText(path, md.ToString());
    }
}
