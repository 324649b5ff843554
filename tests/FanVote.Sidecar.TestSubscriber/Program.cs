using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr;
using Dapr.AspNetCore;
using FanVote.Sidecar.TestSubscriber;

// A subscriber the pub/sub conformance tests run behind a local sidecar. Topics come from TESTSUB_TOPICS (a
// JSON array of TopicConfig) because the sidecar reads GET /dapr/subscribe once at start-up. What the app
// answers is decided per message by the `behavior` field of the published data (see Behaviors), and every
// attempt is recorded for GET /received and GET /summary.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddDaprClient();
builder.Services.AddSingleton<Recorder>();
var app = builder.Build();
var recorder = app.Services.GetRequiredService<Recorder>();
recorder.DefaultBehavior = Environment.GetEnvironmentVariable("TESTSUB_DEFAULT_BEHAVIOR") ?? "ok";

// UseCloudEvents replaces the body; keep the bytes the sidecar sent so tests can check the envelope itself.
app.Use(async (ctx, next) =>
{
    if (HttpMethods.IsPost(ctx.Request.Method) && !ctx.Request.Path.StartsWithSegments("/control", StringComparison.Ordinal))
    {
        ctx.Request.EnableBuffering();
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms);
        ctx.Request.Body.Position = 0;
        ctx.Items["raw"] = Encoding.UTF8.GetString(ms.ToArray());
        ctx.Items["rawContentType"] = ctx.Request.ContentType ?? "";
    }

    await next(ctx);
});
app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapGet("/healthz", () => Results.Ok());

var topics = JsonSerializer.Deserialize<List<TopicConfig>>(
    Environment.GetEnvironmentVariable("TESTSUB_TOPICS") ?? "[]",
    new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? [];
foreach (var t in topics)
{
    var routes = new List<(string Route, string? Match, int Priority)>();
    if (t.Route is not null)
    {
        routes.Add((t.Route, null, 0));
    }

    routes.AddRange(t.Rules.Select(r => (r.Route, (string?)r.Match, r.Priority)));
    foreach (var (route, match, priority) in routes)
    {
        var endpoint = app.MapPost("/" + route, (Delegate)((HttpContext ctx) => t.Bulk ? Handlers.BulkAsync(ctx, recorder, t, route) : Handlers.SingleAsync(ctx, recorder, t, route)));
        var options = new TopicOptions
        {
            PubsubName = t.Pubsub,
            Name = t.Topic,
            DeadLetterTopic = t.DeadLetterTopic,
            EnableRawPayload = t.RawPayload,
            Match = match,
            Priority = priority,
        };
        endpoint.WithTopic(options);
        if (t.Bulk)
        {
            endpoint.WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = t.Topic, MaxMessagesCount = t.MaxMessagesCount, MaxAwaitDurationMs = t.MaxAwaitDurationMs });
        }
    }
}

app.MapGet("/received", (string? topic) => Results.Json(new
{
    messages = recorder.Messages.Where(m => topic is null || m.Topic == topic).OrderBy(m => m.Seq),
    batches = recorder.Batches.Where(b => topic is null || b.Topic == topic).OrderBy(b => b.Seq),
}));
app.MapGet("/summary", (string topic) =>
{
    var ms = recorder.Messages.Where(m => m.Topic == topic).ToList();
    return Results.Json(new
    {
        attempts = ms.GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Count()),
        handled = ms.Where(m => m.Handled).Select(m => m.Key).Distinct(),
    });
});
app.MapPost("/control", (ControlRequest c) =>
{
    if (c.DefaultBehavior is { } b)
    {
        recorder.DefaultBehavior = b;
    }

    if (c.Clear)
    {
        recorder.Clear();
    }

    return Results.Ok();
});
app.Run();

namespace FanVote.Sidecar.TestSubscriber
{
    public sealed record RuleConfig(string Match, string Route, int Priority);

    public sealed record TopicConfig(
        string Pubsub,
        string Topic,
        string? Route,
        bool RawPayload = false,
        string? DeadLetterTopic = null,
        bool Bulk = false,
        int MaxMessagesCount = 100,
        int MaxAwaitDurationMs = 1000)
    {
        public IReadOnlyList<RuleConfig> Rules { get; init; } = [];

        /// <summary>When set, wins over the message's behavior (e.g. "ok" on a dead-letter topic).</summary>
        public string? Behavior { get; init; }
    }

    public sealed record ControlRequest(string? DefaultBehavior, bool Clear);

    public sealed record Received(
        long Seq,
        string Topic,
        string Route,
        string Key,
        string? CloudEventId,
        string Body,
        string RawBody,
        string ContentType,
        string RawContentType,
        Dictionary<string, string> Headers,
        int Attempt,
        string Answer,
        bool Handled,
        bool Bulk,
        DateTimeOffset At);

    public sealed record Batch(long Seq, string Topic, string Route, int Count, string Answer, DateTimeOffset At);

    public sealed class Recorder
    {
        private long _seq;

        public ConcurrentBag<Received> Messages { get; private set; } = [];

        public ConcurrentBag<Batch> Batches { get; private set; } = [];

        public ConcurrentDictionary<string, int> Attempts { get; private set; } = new();

        public string DefaultBehavior { get; set; } = "ok";

        public long NextSeq() => Interlocked.Increment(ref _seq);

        public int NextAttempt(string topic, string key) => Attempts.AddOrUpdate($"{topic}/{key}", 1, (_, n) => n + 1);

        public void Clear()
        {
            Messages = [];
            Batches = [];
            Attempts = new();
        }
    }

    /// <summary>
    /// Message behaviours (data field `behavior`, else the default): ok (200, empty), success ({"status":"SUCCESS"}),
    /// retry, drop, 404, 500, fail-first:N (500 for the first N attempts), random:N (500 one time in N),
    /// sleep:MS, sleep-first:MS (only the first attempt sleeps). Bulk entries also understand retry-first:N,
    /// missing-first:N (entry left out of the statuses) and nonjson-first:N (the whole answer is not JSON).
    /// </summary>
    public static class Handlers
    {
        public static async Task<IResult> SingleAsync(HttpContext ctx, Recorder recorder, TopicConfig t, string route)
        {
            var raw = ctx.Items["raw"] as string ?? "";
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var ce = TryParse(raw) as JsonObject;
            var data = TryParse(body);
            var key = Str(data, "key") ?? Str(ce, "id") ?? "";
            var behavior = t.Behavior ?? Str(data, "behavior") ?? recorder.DefaultBehavior;
            var attempt = recorder.NextAttempt(t.Topic, key);
            var (answer, handled, result) = await Decide(behavior, attempt);
            recorder.Messages.Add(new Received(
                recorder.NextSeq(), t.Topic, route, key, Str(ce, "id"), body, raw, ctx.Request.ContentType ?? "", ctx.Items["rawContentType"] as string ?? "",
                ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                attempt, answer, handled, Bulk: false, DateTimeOffset.UtcNow));
            return result;
        }

        public static async Task<IResult> BulkAsync(HttpContext ctx, Recorder recorder, TopicConfig t, string route)
        {
            var raw = ctx.Items["raw"] as string ?? "";
            var doc = TryParse(raw) as JsonObject;
            var entries = doc?["entries"] as JsonArray ?? [];
            var statuses = new JsonArray();
            var wholeAnswer = "statuses";
            foreach (var entry in entries.OfType<JsonObject>())
            {
                var entryId = Str(entry, "entryId") ?? "";
                var ev = entry["event"];
                JsonNode? data;
                string? ceId = null;
                if (ev is JsonValue v && v.TryGetValue<string>(out var b64))
                {
                    data = TryParse(Encoding.UTF8.GetString(Convert.FromBase64String(b64)));
                }
                else
                {
                    ceId = Str(ev, "id");
                    data = ev?["data"];
                }

                var key = Str(data, "key") ?? ceId ?? entryId;
                var behavior = t.Behavior ?? Str(data, "behavior") ?? recorder.DefaultBehavior;
                var attempt = recorder.NextAttempt(t.Topic, key);
                string status;
                if (behavior == "404")
                {
                    wholeAnswer = "404";
                    status = "404";
                }
                else if (FirstN(behavior, "nonjson-first:", attempt))
                {
                    wholeAnswer = "nonjson";
                    status = "nonjson";
                }
                else if (FirstN(behavior, "missing-first:", attempt))
                {
                    status = "missing";
                }
                else
                {
                    status = behavior switch
                    {
                        "retry" => "RETRY",
                        "drop" => "DROP",
                        _ when FirstN(behavior, "retry-first:", attempt) => "RETRY",
                        _ => "SUCCESS",
                    };
                }

                if (status is "SUCCESS" or "RETRY" or "DROP")
                {
                    statuses.Add(new JsonObject { ["entryId"] = entryId, ["status"] = status });
                }

                recorder.Messages.Add(new Received(
                    recorder.NextSeq(), t.Topic, route, key, ceId, data?.ToJsonString() ?? "", entry.ToJsonString(), Str(entry, "contentType") ?? "",
                    ctx.Items["rawContentType"] as string ?? "", ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                    attempt, status, status == "SUCCESS", Bulk: true, DateTimeOffset.UtcNow));
            }

            recorder.Batches.Add(new Batch(recorder.NextSeq(), t.Topic, route, entries.Count, wholeAnswer, DateTimeOffset.UtcNow));
            return wholeAnswer switch
            {
                "404" => Results.NotFound(),
                "nonjson" => Results.Text("this is not json", "text/plain"),
                _ => Results.Json(new JsonObject { ["statuses"] = statuses }),
            };
        }

        private static async Task<(string Answer, bool Handled, IResult Result)> Decide(string behavior, int attempt)
        {
            switch (behavior)
            {
                case "success":
                    return ("SUCCESS", true, Results.Json(new { status = "SUCCESS" }));
                case "retry":
                    return ("RETRY", false, Results.Json(new { status = "RETRY" }));
                case "drop":
                    return ("DROP", false, Results.Json(new { status = "DROP" }));
                case "404":
                    return ("404", false, Results.NotFound());
                case "500":
                    return ("500", false, Results.StatusCode(500));
                default:
                    break;
            }

            if (FirstN(behavior, "fail-first:", attempt))
            {
                return ("500", false, Results.StatusCode(500));
            }

            if (behavior.StartsWith("random:", StringComparison.Ordinal) && Random.Shared.Next(int.Parse(behavior[7..], System.Globalization.CultureInfo.InvariantCulture)) == 0)
            {
                return ("500", false, Results.StatusCode(500));
            }

            if (behavior.StartsWith("sleep:", StringComparison.Ordinal) ||
                (behavior.StartsWith("sleep-first:", StringComparison.Ordinal) && attempt == 1))
            {
                await Task.Delay(int.Parse(behavior[(behavior.IndexOf(':', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            }

            return ("ok", true, Results.Ok());
        }

        private static bool FirstN(string behavior, string prefix, int attempt) =>
            behavior.StartsWith(prefix, StringComparison.Ordinal) &&
            attempt <= int.Parse(behavior[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);

        private static JsonNode? TryParse(string s)
        {
            try
            {
                return string.IsNullOrWhiteSpace(s) ? null : JsonNode.Parse(s);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static string? Str(JsonNode? n, string name) =>
            n is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }
}
