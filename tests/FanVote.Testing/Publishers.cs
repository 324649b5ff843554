using Dapr.Client;

namespace FanVote.Testing;

/// <summary>
/// Sidecars that publish the way a given app does, started on first use: pub/sub scopes let each app id publish only its
/// own topics, so a test that plays the orchestrator (window events), fraud (verdicts, flags) or ingress (votes) goes
/// through a sidecar with that app id, with the tokens of <see cref="TestKeys"/>.
/// </summary>
public sealed class Publishers(string resourcesPath, string redisAddress, System.Text.Json.JsonSerializerOptions json) : IAsyncDisposable
{
    private readonly Dictionary<string, (SidecarHost Sidecar, DaprClient Client)> _started = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>A DaprClient on a sidecar with app id <paramref name="appId"/> (no app behind it).</summary>
    public async Task<DaprClient> AsAsync(string appId)
    {
        await _gate.WaitAsync();
        try
        {
            if (!_started.TryGetValue(appId, out var s))
            {
                var env = TestKeys.SidecarEnvironment(appId);
                env["FANVOTE_REDIS_HOST"] = redisAddress;
                var sidecar = await new SidecarHost(appId, resourcesPath, env: env).StartAsync();
                s = (sidecar, sidecar.Client(json));
                _started[appId] = s;
            }

            return s.Client;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The sidecar started for <paramref name="appId"/>, if any (to kill or restart it).</summary>
    public SidecarHost? Sidecar(string appId) => _started.TryGetValue(appId, out var s) ? s.Sidecar : null;

    public async ValueTask DisposeAsync()
    {
        foreach (var (sidecar, client) in _started.Values)
        {
            client.Dispose();
            await sidecar.DisposeAsync();
        }

        _gate.Dispose();
    }
}
