using System.Collections.Concurrent;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Watch;

/// <summary>
/// The operator's watch of a window: asking ingress and tally for its counts (a <see cref="VoteCountsRequested"/> with
/// <c>Watch</c> set, at most once a second per window on this instance however many consoles watch), and keeping their
/// answers in the orchestrator's state (one key per service per window, the later reading kept, expiring after a day)
/// so every orchestrator instance shows the same thing. The window's workflow never sees these answers.
/// </summary>
public sealed class WindowWatchBook(DaprClient dapr, TimeProvider time)
{
    /// <summary>The least time between two requests for the same window from this instance.</summary>
    public static readonly TimeSpan AskEvery = TimeSpan.FromSeconds(1);

    private const int MaxTracked = 10_000;
    private static readonly Dictionary<string, string> Expiry = new() { ["ttlInSeconds"] = "86400" };
    private readonly ConcurrentDictionary<string, DateTimeOffset> _asked = new(StringComparer.Ordinal);

    private sealed record PersistedEntry(CountAt Persisted, FlagCounts Flags);

    private static string AcceptedKey(string windowId) => $"watch:{windowId}:accepted";

    private static string PersistedKey(string windowId) => $"watch:{windowId}:persisted";

    /// <summary>Asks ingress and tally for the window's counts now, unless this instance asked less than <see cref="AskEvery"/> ago.</summary>
    public async Task AskAsync(string windowId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_asked.TryGetValue(windowId, out var last) && now - last < AskEvery)
        {
            return;
        }

        if (_asked.Count >= MaxTracked)
        {
            _asked.Clear();
        }

        _asked[windowId] = now;
        await dapr.PublishTypedAsync(Topics.WindowRequests, EventTypes.VoteCountsRequested, new VoteCountsRequested
        {
            EventId = Guid.NewGuid(), OccurredAt = now, WindowId = windowId, Seq = now.ToUnixTimeMilliseconds(), Watch = true,
        }, ct);
    }

    public Task RecordAsync(AcceptedVotesReported e, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        return KeepLaterAsync(AcceptedKey(e.WindowId), new CountAt(e.Accepted, e.OccurredAt), c => c.At, ct);
    }

    public Task RecordAsync(PersistedVotesReported e, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        return KeepLaterAsync(PersistedKey(e.WindowId), new PersistedEntry(new CountAt(e.Persisted, e.OccurredAt), e.Flags), p => p.Persisted.At, ct);
    }

    /// <summary>Stores <paramref name="entry"/> under <paramref name="key"/> unless a later reading is stored there already.</summary>
    private async Task KeepLaterAsync<T>(string key, T entry, Func<T, DateTimeOffset> readAt, CancellationToken ct)
        where T : class
    {
        var stored = await dapr.GetStateAsync<T?>(ComponentNames.State, key, cancellationToken: ct);
        if (CountAt.Supersedes(readAt(entry), stored is null ? null : readAt(stored)))
        {
            await dapr.SaveStateAsync(ComponentNames.State, key, entry, metadata: Expiry, cancellationToken: ct);
        }
    }

    /// <summary>The latest answers kept for the window (nulls until a service has answered).</summary>
    public async Task<WindowWatch> ReadAsync(string windowId, CancellationToken ct)
    {
        var accepted = dapr.GetStateAsync<CountAt?>(ComponentNames.State, AcceptedKey(windowId), cancellationToken: ct);
        var persisted = await dapr.GetStateAsync<PersistedEntry?>(ComponentNames.State, PersistedKey(windowId), cancellationToken: ct);
        return new WindowWatch(windowId, await accepted, persisted?.Persisted, persisted?.Flags ?? FlagCounts.None);
    }
}
