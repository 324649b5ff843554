using System.Diagnostics;
using FanVote.ServiceDefaults;

namespace FanVote.Tally.Adapters;

/// <summary>
/// When tracing is on: the traces of the votes counted into each window since its last published snapshot, so the
/// "publish tally-updated" span continues them (its parent the first, links to the others). Bounded: at most
/// <see cref="FanVoteTracing.MaxLinks"/> + 1 per window, dropped when the snapshot is published.
/// </summary>
public sealed class TallyTraces
{
    private readonly Dictionary<string, List<ActivityContext>> _windows = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Records that a vote of <paramref name="windowId"/> with trace <paramref name="trace"/> was counted.</summary>
    public void Counted(string windowId, ActivityContext trace)
    {
        if (trace == default)
        {
            return;
        }

        lock (_gate)
        {
            if (!_windows.TryGetValue(windowId, out var list))
            {
                _windows[windowId] = list = new List<ActivityContext>(4);
            }

            if (list.Count <= FanVoteTracing.MaxLinks)
            {
                list.Add(trace);
            }
        }
    }

    /// <summary>
    /// The span around publishing <paramref name="windowId"/>'s snapshot, and forgets the window's traces. Null when
    /// tracing is off or no traced vote was counted since the last snapshot (a republish of the same counts starts no trace).
    /// </summary>
    public Activity? StartPublish(string windowId, string topic)
    {
        if (!FanVoteTracing.IsOn)
        {
            return null;
        }

        List<ActivityContext>? traces;
        lock (_gate)
        {
            _windows.Remove(windowId, out traces);
        }

        if (traces is null)
        {
            return null;
        }

        var span = FanVoteTracing.StartForMany("publish " + topic, ActivityKind.Producer, traces);
        span?.SetTag("messaging.destination.name", topic);
        span?.SetTag("fanvote.window_id", windowId);
        return span;
    }
}
