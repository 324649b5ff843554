using System.Text.Json;

namespace FanVote.Ops.Tests;

/// <summary>The Grafana dashboard's panels and queries.</summary>
internal static class Dashboard
{
    public static JsonDocument Load() => JsonDocument.Parse(File.ReadAllText(OpsFiles.DashboardPath));

    /// <summary>Every panel that is not a row, with its row's title.</summary>
    public static IReadOnlyList<(string Row, JsonElement Panel)> Panels(JsonDocument doc)
    {
        var found = new List<(string, JsonElement)>();
        var row = "";
        foreach (var p in doc.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (p.GetProperty("type").GetString() == "row")
            {
                row = p.GetProperty("title").GetString() ?? "";
                foreach (var nested in p.TryGetProperty("panels", out var inner) ? inner.EnumerateArray() : default)
                {
                    found.Add((row, nested));
                }

                continue;
            }

            found.Add((row, p));
        }

        return found;
    }

    public static IReadOnlyList<(int PanelId, string Title, string RefId, string Expr)> Targets()
    {
        using var doc = Load();
        return Panels(doc)
            .SelectMany(p => p.Panel.GetProperty("targets").EnumerateArray().Select(t => (
                p.Panel.GetProperty("id").GetInt32(),
                p.Panel.GetProperty("title").GetString() ?? "",
                t.GetProperty("refId").GetString() ?? "",
                t.GetProperty("expr").GetString() ?? "")))
            .ToList();
    }

    /// <summary>A panel query with Grafana's interval variables replaced by a duration, as Grafana sends it.</summary>
    public static string ForPromtool(string expr) =>
        expr.Replace("$__rate_interval", "1m", StringComparison.Ordinal).Replace("$__interval", "1m", StringComparison.Ordinal).Replace("$__range", "1h", StringComparison.Ordinal);
}
