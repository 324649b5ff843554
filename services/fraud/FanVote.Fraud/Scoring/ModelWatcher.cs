using FanVote.Fraud.Model;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace FanVote.Fraud.Scoring;

/// <summary>
/// Holds the model in use and swaps it when current.txt names another version: the new version is loaded and checked
/// beside the old one (which keeps scoring meanwhile), then one reference assignment switches the scoring loop over at
/// its next batch. No restart, no vote dropped or scored twice. A version that fails to load is logged and skipped;
/// the old model stays. (Microsoft.Extensions.ML would do the watching, but is not available here.)
/// </summary>
public sealed class ModelWatcher : BackgroundService, IHealthCheck
{
    private readonly ModelStore _store;
    private readonly FraudOptions _options;
    private readonly FraudMetrics _metrics;
    private readonly ILogger<ModelWatcher> _log;
    private readonly ModelAnnouncer _announcer;
    private readonly SemaphoreSlim _changed = new(0);
    private RiskModel? _current;
    private string? _rejected;
    private FileSystemWatcher? _watcher;

    public ModelWatcher(IOptions<FraudOptions> options, FraudMetrics metrics, ModelAnnouncer announcer, ILogger<ModelWatcher> log)
    {
        _announcer = announcer;
        _options = options.Value;
        _metrics = metrics;
        _log = log;
        var root = _options.ModelRoot is { Length: > 0 } r ? r
            : ModelStore.Find(AppContext.BaseDirectory) ?? ModelStore.Find(Directory.GetCurrentDirectory()) ?? Path.Combine("ml-models", "fraud");
        _store = new ModelStore(root);
    }

    /// <summary>The model to score with; null until one is promoted. Read it once per batch.</summary>
    public RiskModel? Current => Volatile.Read(ref _current);

    public string Root => _store.Root;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Check(); // the promoted model is in use before the first vote arrives
        if (Current is null)
        {
            FraudLog.NoModel(_log, _store.Root);
        }

        if (Directory.Exists(_store.Root))
        {
            _watcher = new FileSystemWatcher(_store.Root, ModelStore.CurrentFile) { NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size };
            _watcher.Changed += (_, _) => _changed.Release();
            _watcher.Created += (_, _) => _changed.Release();
            _watcher.Renamed += (_, _) => _changed.Release();
            _watcher.EnableRaisingEvents = true;
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await _changed.WaitAsync(_options.ModelPollInterval, stoppingToken))
                {
                    _rejected = null; // current.txt was written again: the same version may have been repaired
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Check();
        }
    }

    /// <summary>Loads the promoted version if it is not the one in use (and has not already failed to load).</summary>
    public void Check()
    {
        string? version;
        try
        {
            version = _store.Current();
        }
        catch (IOException)
        {
            return; // being replaced right now: the next look sees the new name
        }

        if (version is null || version == Current?.Version || version == _rejected)
        {
            return;
        }

        try
        {
            var model = RiskModel.Load(_store.VersionDirectory(version));
            var previous = Current?.Version;
            // The old model is not disposed: the scoring loop may be in the middle of a batch with it. It is garbage
            // once that batch ends.
            Volatile.Write(ref _current, model);
            _rejected = null;
            _metrics.ModelInUse(model.Version);
            _metrics.ModelLoads.Add(1, new("version", version), new("outcome", "loaded"));
            FraudLog.ModelLoaded(_log, model.Version, model.Info.Algorithm, model.Threshold, _store.Root);
            _announcer.Announce(model.Version, previous, model.Info.Algorithm, model.Threshold);
        }
        catch (Exception e) when (e is ModelLoadException or ArgumentException or IOException)
        {
            _rejected = version;
            _metrics.ModelLoads.Add(1, new("version", version), new("outcome", "rejected"));
            FraudLog.ModelRejected(_log, e, version, Current?.Version ?? "no model");
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Current is { } m
            ? HealthCheckResult.Healthy($"model {m.Version}")
            : HealthCheckResult.Unhealthy($"no fraud model is loaded from {_store.Root}: train one and promote it (./fanvote train promote VERSION)"));

    public override void Dispose()
    {
        _watcher?.Dispose();
        _changed.Dispose();
        base.Dispose();
    }
}
