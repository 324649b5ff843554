using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Testing;

namespace FanVote.Orchestrator.Tests;

/// <summary>The orchestrator beside its local sidecar on the local components, with a private Redis.</summary>
public sealed class OrchestratorRig : IAsyncLifetime
{
    public const string OperatorKey = "test-operator-key-0123456789";

    /// <summary>Two named operators besides "operator" (FANVOTE_OPERATOR_KEYS), so the action log can tell them apart.</summary>
    public const string AliceKey = "alice-operator-key-0123456789";
    public const string BobKey = "bob-operator-key-0123456789";

    private readonly ResourceFolder _resources = ResourceFolder.LocalComponents();
    private readonly string _anchorDir = Directory.CreateTempSubdirectory("fanvote-action-anchors-").FullName;

    /// <summary>Where the orchestrator anchors its action log.</summary>
    public string AnchorFile => Path.Combine(_anchorDir, "anchors.jsonl");

    public RedisServer Redis { get; private set; } = null!;

    public ServiceHost Service { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Service = await new ServiceHost(AppIds.Orchestrator, "FanVote.Orchestrator", _resources.Path,
            appEnv: new Dictionary<string, string?>
            {
                ["FANVOTE_OPERATOR_KEY"] = OperatorKey,
                ["FANVOTE_OPERATOR_KEYS"] = $"alice={AliceKey};bob={BobKey}",
                ["FANVOTE_ACTION_LOG_ANCHORS"] = AnchorFile,
            },
            redisHost: Redis.Address).StartAsync();
        Http.BaseAddress = new Uri(Service.BaseUrl);
    }

    public async Task<HttpResponseMessage> CreateAsync(object body, string? key = OperatorKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/windows") { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("X-Operator-Key", key);
        }

        return await Http.SendAsync(request);
    }

    public async Task<JsonDocument?> GetAsync(string windowId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/windows/{windowId}");
        request.Headers.Add("X-Operator-Key", OperatorKey);
        using var r = await Http.SendAsync(request);
        return r.IsSuccessStatusCode ? JsonDocument.Parse(await r.Content.ReadAsStringAsync()) : null;
    }

    public async Task<HttpResponseMessage> PostAsync(string path, string key = OperatorKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Add("X-Operator-Key", key);
        return await Http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> GetRawAsync(string path, string? key = OperatorKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Operator-Key", key);
        }

        return await Http.SendAsync(request);
    }

    public async Task<string?> WaitPhaseAsync(string windowId, string phase, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using var doc = await GetAsync(windowId);
            last = doc?.RootElement.GetProperty("phase").GetString();
            if (last == phase)
            {
                return last;
            }

            await Task.Delay(200);
        }

        return last;
    }

    /// <summary>CloudEvent (type, event id, window id) of every message on the window-events stream.</summary>
    public Task<List<(string Type, Guid EventId, string WindowId)>> WindowEventsAsync() => StreamEvents.ReadAsync(Redis.Address, Topics.WindowEvents);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        _resources.Dispose();
        Directory.Delete(_anchorDir, recursive: true);
    }
}
