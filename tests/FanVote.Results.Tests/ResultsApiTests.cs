using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace FanVote.Results.Tests;

public sealed class ResultsApiTests(ResultsRig rig) : IClassFixture<ResultsRig>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewWindow() => "w-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Results_ScheduledThenTallied_ShowsCountsWithEtagAndShortCache()
    {
        var w = NewWindow();
        await rig.ScheduleAsync(w, "a", "b", "c");
        await rig.WaitResultsAsync(w, e => e.GetProperty("candidates").GetArrayLength() == 3);

        await rig.TallyAsync(w, 4, ("a", 5), ("b", 2));
        var body = await rig.WaitResultsAsync(w, e => e.GetProperty("seq").GetInt64() == 4);

        Assert.Equal(7, body.GetProperty("total").GetInt64());
        Assert.Equal(5, body.GetProperty("counts").GetProperty("a").GetInt64());
        Assert.Equal(0, body.GetProperty("counts").GetProperty("c").GetInt64());
        Assert.Equal("Show " + w, body.GetProperty("title").GetString());

        using var r = await rig.Http.GetAsync(new Uri($"/v1/windows/{w}/results", UriKind.Relative), Ct);
        Assert.Equal("\"4\"", r.Headers.ETag?.Tag);
        Assert.Contains("max-age=1", r.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        using var again = new HttpRequestMessage(HttpMethod.Get, $"/v1/windows/{w}/results");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"4\""));
        using var notModified = await rig.Http.SendAsync(again, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task Results_OlderSnapshotAfterNewer_IsIgnored()
    {
        var w = NewWindow();
        await rig.TallyAsync(w, 10, ("a", 10));
        await rig.WaitResultsAsync(w, e => e.GetProperty("seq").GetInt64() == 10);

        await rig.TallyAsync(w, 9, ("a", 9));
        await rig.TallyAsync(w, 11, ("a", 11));
        var body = await rig.WaitResultsAsync(w, e => e.GetProperty("seq").GetInt64() == 11);

        Assert.Equal(11, body.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Results_UnknownWindow_Is404ProblemJson()
    {
        using var r = await rig.Http.GetAsync(new Uri("/v1/windows/never-heard-of-it/results", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Stream_SeveralClients_AllGetTheSameUpdatesInOrder()
    {
        var w = NewWindow();
        await rig.ScheduleAsync(w, "a", "b");
        await rig.WaitResultsAsync(w, e => e.GetProperty("candidates").GetArrayLength() == 2);
        var readers = Enumerable.Range(0, 5).Select(_ => SseReader.OpenAsync(rig.Http, $"/v1/windows/{w}/results/stream", Ct)).ToList();
        var streams = await Task.WhenAll(readers);
        Assert.Equal(5, streams.Length);

        for (var seq = 1; seq <= 3; seq++)
        {
            await rig.TallyAsync(w, seq, ("a", seq * 10), ("b", seq));
            await Task.Delay(150, Ct);
        }

        foreach (var s in streams)
        {
            var seen = await s.ReadUntilAsync(e => e.GetProperty("seq").GetInt64() == 3, TimeSpan.FromSeconds(10));
            var seqs = seen.Select(e => e.GetProperty("seq").GetInt64()).ToList();
            Assert.Equal(seqs.Order(), seqs);
            Assert.Equal(33, seen[^1].GetProperty("total").GetInt64());
            s.Dispose();
        }
    }

    [Fact]
    public async Task Stream_ReconnectWithLastEventId_GetsOnlyNewerUpdates()
    {
        var w = NewWindow();
        await rig.TallyAsync(w, 5, ("a", 5));
        await rig.WaitResultsAsync(w, e => e.GetProperty("seq").GetInt64() == 5);

        using var s = await SseReader.OpenAsync(rig.Http, $"/v1/windows/{w}/results/stream", Ct, lastEventId: "5");
        await rig.TallyAsync(w, 6, ("a", 6));
        var seen = await s.ReadUntilAsync(e => e.GetProperty("seq").GetInt64() == 6, TimeSpan.FromSeconds(10));

        Assert.Equal([6L], seen.Select(e => e.GetProperty("seq").GetInt64()));
    }
}

/// <summary>A minimal Server-Sent-Events client: reads `data:` lines of `tally` events as JSON.</summary>
internal sealed class SseReader : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<SseReader> OpenAsync(HttpClient http, string path, CancellationToken ct, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseReader(response, new StreamReader(await response.Content.ReadAsStreamAsync(ct)));
    }

    public async Task<List<JsonElement>> ReadUntilAsync(Func<JsonElement, bool> done, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var events = new List<JsonElement>();
        while (await _reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var e = JsonDocument.Parse(line[6..]).RootElement.Clone();
                events.Add(e);
                if (done(e))
                {
                    break;
                }
            }
        }

        return events;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}
