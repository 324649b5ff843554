using System.Net.Http.Json;
using FanVote.ActionLog;
using FanVote.Contracts;
using FanVote.Security;

namespace FanVote.Cli;

/// <summary>`actions verify` and `actions list`: the operator action log, read through the operator API.</summary>
public static partial class Cli
{
    private const string OperatorKeySetting = "FANVOTE_OPERATOR_KEY";

    private sealed record ActionPage(long Head, List<ActionRecord> Actions, long? NextAfter);

    private static async Task<int> VerifyActionsAsync(Dictionary<string, string> o, TextWriter output)
    {
        var key = new ActionLogKey(await ChainKeyAsync(o, ActionLogKey.Setting, "the action log's"));

        var skipAnchors = o.GetValueOrDefault("no-anchors") == "yes";
        var anchorPath = skipAnchors ? null : o.GetValueOrDefault("anchors") ?? Env(ActionLogKey.AnchorsSetting)
            ?? throw new UsageException($"give --anchors (or set {ActionLogKey.AnchorsSetting}), or --no-anchors yes: without the anchors a cut log verifies");
        var (rows, _) = await ReadActionsAsync(o, after: 0, limit: null);
        AnchorFile? anchors = null;
        if (anchorPath is not null)
        {
            var lines = new List<string>();
            foreach (var file in AnchorFiles(anchorPath))
            {
                lines.AddRange(await File.ReadAllLinesAsync(file));
            }

            anchors = key.Anchors.Read(lines);
        }

        var report = ActionLogVerifier.Verify(key, rows, anchors, anchorPath ?? "");
        var findings = report.Findings.Select(f => $"{f.Kind.ToString().ToLowerInvariant()}: {f.Message}").ToList();
        if (anchors is not null && anchors.Latest is null && rows.Count > 0)
        {
            findings.Add($"anchor: {anchorPath} holds no anchor, yet the log has {rows.Count} rows: the orchestrator anchors after every append, so its anchors were lost or never written");
        }

        var head = rows.Count > 0 ? rows[^1] : null;
        return PrintVerdict(output, "action log", report.Rows, head is null ? null : (head.Seq, head.Hash), skipAnchors: anchors is null, anchors?.Latest, findings);
    }

    private static async Task<int> ListActionsAsync(Dictionary<string, string> o, TextWriter output)
    {
        var after = o.TryGetValue("after", out var a) ? (long.TryParse(a, out var n) && n >= 0 ? n : throw new UsageException("--after must be 0 or a row's seq")) : 0;
        int? limit = o.TryGetValue("limit", out var l) ? (int.TryParse(l, out var m) && m > 0 ? m : throw new UsageException("--limit must be a positive number")) : null;
        var (rows, head) = await ReadActionsAsync(o, after, limit);
        foreach (var r in rows)
        {
            var detail = string.Join(" ", r.Detail.Select(d => $"{d.Key}={d.Value}"));
            output.WriteLine(S($"#{r.Seq} {r.At:yyyy-MM-dd HH:mm:ss.fff}Z {r.Actor} {r.Action} {r.Target} from {r.From}: {r.Outcome}{(detail.Length > 0 ? " (" + detail + ")" : "")}"));
        }

        output.WriteLine(S($"{rows.Count} rows shown; the log's head is row {head}"));
        return 0;
    }

    /// <summary>Pages through GET /v1/actions from <paramref name="after"/>: every row (or <paramref name="limit"/>), and the head.</summary>
    private static async Task<(List<ActionRecord> Rows, long Head)> ReadActionsAsync(Dictionary<string, string> o, long after, int? limit)
    {
        var url = (o.GetValueOrDefault("url") ?? Env("FANVOTE_ORCHESTRATOR_URL") ?? "http://127.0.0.1:5082").TrimEnd('/');
        var operatorKey = o.TryGetValue("operator-key-file", out var keyFile)
            ? (File.Exists(keyFile) ? (await File.ReadAllTextAsync(keyFile)).Trim() : throw new UsageException($"--operator-key-file {keyFile}: no such file"))
            : Env(OperatorKeySetting) ?? throw new UsageException($"set {OperatorKeySetting} or give --operator-key-file (an operator's key; never on the command line): the action log is for operators");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("X-Operator-Key", operatorKey);
        var rows = new List<ActionRecord>();
        long head = 0;
        long? next = after;
        while (next is { } from && (limit is null || rows.Count < limit))
        {
            var page = Math.Min(500, limit is null ? 500 : limit.Value - rows.Count);
            using var response = await http.GetAsync(new Uri(S($"{url}/v1/actions?after={from}&limit={page}")));
            if (!response.IsSuccessStatusCode)
            {
                throw new UsageException($"{url}/v1/actions answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }

            var body = await response.Content.ReadFromJsonAsync<ActionPage>(FanVoteJson.Options) ?? throw new UsageException($"{url}/v1/actions answered no page");
            rows.AddRange(body.Actions);
            head = body.Head;
            next = body.NextAfter;
        }

        return (rows, head);
    }

    private static IEnumerable<string> AnchorFiles(string path) =>
        Directory.Exists(path) ? Directory.GetFiles(path, "*.jsonl").Order(StringComparer.Ordinal)
        : File.Exists(path) ? [path]
        : [];
}
