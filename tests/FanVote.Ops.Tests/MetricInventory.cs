using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using FanVote.ServiceDefaults;
using FanVote.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace FanVote.Ops.Tests;

/// <summary>An instrument as a source file declares it: <c>meter.CreateCounter&lt;long&gt;("fanvote.x.y", unit: "{vote}")</c>.</summary>
internal sealed record Instrument(string Kind, string Name, string? Unit, string File);

/// <summary>
/// What the apps export on /metrics, derived rather than listed: the instruments declared in the sources (services/,
/// workflows/, tools/FanVote.Sidecar) are created again, same kind, name and unit, in a host set up by the services'
/// own <see cref="FanVoteDefaults"/> (OpenTelemetry with the ASP.NET Core instrumentation and the Prometheus
/// exporter), and the series names are read from its /metrics. Renaming an instrument in code, or changing its unit
/// (which changes the suffix), changes this inventory.
/// </summary>
internal static partial class MetricInventory
{
    private const string AppId = "ops-inventory";

    private static readonly string[] SourceRoots = ["services", "workflows", Path.Combine("tools", "FanVote.Sidecar")];

    private static readonly Lazy<Task<Scrape>> Scraped = new(ScrapeAsync);

    public static IReadOnlyList<Instrument> Declared { get; } = ReadSources();

    /// <summary>The series names and, per name, the label names seen on /metrics.</summary>
    public static Task<Scrape> ExportedAsync() => Scraped.Value;

    private static List<Instrument> ReadSources()
    {
        var found = new List<Instrument>();
        foreach (var root in SourceRoots)
        {
            var dir = Path.Combine(TestEnvironment.RepoRoot, root);
            foreach (var file in Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(TestEnvironment.RepoRoot, file);
                if (rel.Split(Path.DirectorySeparatorChar).Any(p => p is "obj" or "bin"))
                {
                    continue;
                }

                foreach (Match m in Create().Matches(File.ReadAllText(file)))
                {
                    var unit = NamedUnit().Match(m.Groups["rest"].Value);
                    var positional = PositionalUnit().Match(m.Groups["rest"].Value);
                    Assert.False(!unit.Success && positional.Success && !m.Groups["kind"].Value.StartsWith("Observable", StringComparison.Ordinal),
                        $"{rel}: instrument {m.Groups["name"].Value} passes its unit positionally; name it (unit: \"...\") so the inventory can read it");
                    found.Add(new Instrument(m.Groups["kind"].Value, m.Groups["name"].Value, unit.Success ? unit.Groups[1].Value : null, rel));
                }
            }
        }

        return found;
    }

    private static async Task<Scrape> ScrapeAsync()
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var config = TestKeys.AppEnvironment(AppId);
        config["DAPR_HTTP_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture);
        config["DAPR_GRPC_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture);
        builder.Configuration.AddInMemoryCollection(config);
        builder.AddFanVoteDefaults(AppId);
        var app = builder.Build();
        app.MapFanVoteDefaultEndpoints();
        app.MapPost("/votes-dlq", () => Microsoft.AspNetCore.Http.Results.Ok());
        await using var _ = app;
        await app.StartAsync(TestContext.Current.CancellationToken);

        // The meter's name matches FanVoteDefaults' AddMeter("FanVote.*"), as every service meter does.
        using var meter = new Meter("FanVote.OpsInventory");
        foreach (var i in Declared)
        {
            switch (i.Kind)
            {
                case "Counter": meter.CreateCounter<long>(i.Name, i.Unit).Add(1); break;
                case "UpDownCounter": meter.CreateUpDownCounter<long>(i.Name, i.Unit).Add(1); break;
                case "Histogram": meter.CreateHistogram<double>(i.Name, i.Unit).Record(1); break;
                case "Gauge": meter.CreateGauge<long>(i.Name, i.Unit).Record(1); break;
                case "ObservableCounter": meter.CreateObservableCounter(i.Name, () => 1L, i.Unit); break;
                case "ObservableUpDownCounter": meter.CreateObservableUpDownCounter(i.Name, () => 1L, i.Unit); break;
                case "ObservableGauge": meter.CreateObservableGauge(i.Name, () => 1L, i.Unit); break;
                default: throw new InvalidOperationException($"{i.File}: instrument kind {i.Kind} is not handled here");
            }
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("dapr-api-token", TestKeys.AppToken(AppId));
        using (var dlq = await http.PostAsync(new Uri("/votes-dlq", UriKind.Relative), null, TestContext.Current.CancellationToken))
        {
            Assert.True(dlq.IsSuccessStatusCode, $"POST /votes-dlq answered {(int)dlq.StatusCode}");
        }

        // The exporter caches a scrape briefly and the request metric is recorded as the response ends: scrape until
        // both the meter's last instrument and the request metric are there.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var text = "";
        while (true)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.AppToken(AppId));
            using var r = await http.SendAsync(req, TestContext.Current.CancellationToken);
            text = await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(r.IsSuccessStatusCode, $"/metrics answered {(int)r.StatusCode}: {text}");
            var scrape = Scrape.Parse(text);
            if (scrape.Series.ContainsKey("http_server_request_duration_seconds_count")
                && Declared.All(i => scrape.Series.Keys.Any(s => s.StartsWith(i.Name.Replace('.', '_'), StringComparison.Ordinal))))
            {
                return scrape;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/metrics did not show every declared instrument and the request metric within 60 s; last scrape:\n{text}");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    [GeneratedRegex("""\.Create(?<kind>Counter|UpDownCounter|Histogram|Gauge|ObservableCounter|ObservableUpDownCounter|ObservableGauge)\s*(?:<[\w.]+>)?\s*\(\s*"(?<name>[^"]+)"(?<rest>[^;]*)""")]
    private static partial Regex Create();

    [GeneratedRegex(@"\bunit:\s*""([^""]*)""")]
    private static partial Regex NamedUnit();

    [GeneratedRegex(@"^\s*,\s*""([^""]*)""")]
    private static partial Regex PositionalUnit();
}

/// <summary>A parsed Prometheus text exposition: series name → label names seen on it.</summary>
internal sealed partial class Scrape
{
    private Scrape(Dictionary<string, HashSet<string>> series, string text)
    {
        Series = series;
        Text = text;
    }

    public IReadOnlyDictionary<string, HashSet<string>> Series { get; }

    public string Text { get; }

    public static Scrape Parse(string text)
    {
        var series = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var m = Sample().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var labels = series.TryGetValue(m.Groups["name"].Value, out var l) ? l : series[m.Groups["name"].Value] = new(StringComparer.Ordinal);
            foreach (Match label in Label().Matches(m.Groups["labels"].Value))
            {
                labels.Add(label.Groups[1].Value);
            }
        }

        return new Scrape(series, text);
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][\w:]*)(?:\{(?<labels>.*)\})?\s+\S+""")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_]\w*)=""(?:[^""\\]|\\.)*""")]
    private static partial Regex Label();
}
