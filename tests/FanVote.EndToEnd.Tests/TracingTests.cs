using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Testing;

namespace FanVote.EndToEnd.Tests;

/// <summary>
/// Traces across the services: the pipeline runs with the standard OTEL_* variables pointing at a test collector
/// (<see cref="OtlpCollector"/>, OTLP/HTTP protobuf as a real collector takes it), and one vote is followed from
/// ingress through the sidecar's CloudEvent to tally's ledger write and on to results' live board, in one trace.
/// </summary>
public sealed class TracingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Server = 2;
    private const int Producer = 4;
    private const int Consumer = 5;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly OtlpCollector _collector = new();
    private PipelineRig _rig = null!;

    public async ValueTask InitializeAsync()
    {
        _rig = new PipelineRig { ServiceEnv = _collector.Environment() };
        await _rig.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _rig.DisposeAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task OneVote_OneTrace_FromIngressThroughTheBrokerToTheLedgerAndTheLiveResults()
    {
        var window = "trace-" + Guid.NewGuid().ToString("N")[..6];
        await _rig.CreateWindowAsync(window, ["aurora", "blaze"], votesPerAccount: 1);
        var token = await SignInAsync(window);
        var voteId = await VoteAsync(window, token);

        // The trace starts at ingress's server span for the 202 (the test client sends no traceparent).
        var request = await _collector.WaitForAsync(
            spans => spans.FirstOrDefault(s => s.Service == AppIds.Ingress && s.Kind == Server
                && s.Attributes.GetValueOrDefault("url.path") == $"/v1/windows/{window}/votes"
                && s.Attributes.GetValueOrDefault("http.response.status_code") == "202"),
            "ingress's server span of the accepted vote", Wait);
        var trace = request.TraceId;
        output.WriteLine($"vote {voteId}: trace {trace}");

        // Each hop, in that trace: the admission's Redis calls and the publish in ingress; the bulk delivery and
        // the ledger's write in tally; tally's snapshot publish; results' delivery of the snapshot to the live board.
        var hops = new (string What, Func<ExportedSpan, bool> Is)[]
        {
            ("ingress: a Redis call of the admission", s => s.Service == AppIds.Ingress && s.Attributes.GetValueOrDefault("db.system") == "redis"),
            ("ingress: publish votes (producer)", s => s.Service == AppIds.Ingress && s.Kind == Producer && s.Name == "publish " + Topics.Votes),
            ("tally: deliver votes (consumer)", s => s.Service == AppIds.Tally && s.Kind == Consumer && s.Name == "deliver " + Topics.Votes),
            ("tally: a PostgreSQL command of the ledger write", s => s.Service == AppIds.Tally && IsPostgres(s)),
            ("tally: publish tally-updated (producer)", s => s.Service == AppIds.Tally && s.Kind == Producer && s.Name == "publish " + Topics.TallyUpdated),
            ("results: the tally-updated delivery (server)", s => s.Service == AppIds.Results && s.Kind == Server
                && s.Attributes.GetValueOrDefault("url.path") == "/" + Topics.TallyUpdated),
        };
        foreach (var (what, isHop) in hops)
        {
            var span = await _collector.WaitForAsync(spans => spans.FirstOrDefault(s => s.TraceId == trace && isHop(s)), $"{what} in trace {trace}", Wait);
            output.WriteLine($"{what}: span {span.SpanId} \"{span.Name}\" parent {span.ParentSpanId}");
        }

        // Within a service the spans nest: tally's ledger command is a child of its delivery span.
        var spansOfTrace = _collector.Spans.Where(s => s.TraceId == trace).ToList();
        var deliver = spansOfTrace.Single(s => s.Service == AppIds.Tally && s.Name == "deliver " + Topics.Votes);
        Assert.Contains(spansOfTrace, s => s.Service == AppIds.Tally && IsPostgres(s) && s.ParentSpanId == deliver.SpanId);
        var publish = spansOfTrace.Single(s => s.Service == AppIds.Ingress && s.Name == "publish " + Topics.Votes);
        Assert.Equal(request.SpanId, publish.ParentSpanId);

        // Health probes and metric scrapes make no spans.
        Assert.DoesNotContain(_collector.Spans, s => s.Attributes.GetValueOrDefault("url.path") is "/healthz" or "/metrics" or "/alive");
    }

    private static bool IsPostgres(ExportedSpan s) =>
        s.Attributes.GetValueOrDefault("db.system") == "postgresql" || s.Attributes.GetValueOrDefault("db.system.name") == "postgresql";

    private async Task<string> SignInAsync(string window)
    {
        using var r = await _rig.IngressHttp.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = window + "-device", consent = TestConsent.Fan });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>Votes until ingress answers 202 (404 while the window's schedule has not reached it yet).</summary>
    private async Task<Guid> VoteAsync(string window, string token)
    {
        var deadline = DateTime.UtcNow + Wait;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes")
            {
                Content = new StringContent("""{"candidateId":"aurora"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("Idempotency-Key", window + "-vote");
            using var r = await _rig.IngressHttp.SendAsync(request);
            if (r.StatusCode == HttpStatusCode.Accepted)
            {
                return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("voteId").GetGuid();
            }

            last = $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}";
            await Task.Delay(200);
        }

        throw new TimeoutException($"the vote was not accepted in {Wait.TotalSeconds:0} s; last answer: {last}");
    }
}
