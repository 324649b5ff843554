using System.Globalization;
using System.Text.Json;
using Dapr.DurableTask.Protobuf;
using FanVote.Sidecar.State;
using Google.Protobuf;

namespace FanVote.Sidecar.Workflows;

/// <summary>What is persisted for one instance: daprd's workflow actor state (docs/workflow-engine.md §4.3) plus an outbox.</summary>
public sealed record InstanceRecord(
    IReadOnlyList<HistoryEvent> History,
    IReadOnlyList<HistoryEvent> Inbox,
    string? CustomStatus,
    ulong Generation,
    IReadOnlyList<WorkflowMessage> Outbox)
{
    public static readonly InstanceRecord Empty = new([], [], null, 1, []);
}

/// <summary>
/// The workflow state in the actor state store, with daprd's layout: per instance the keys
/// `&lt;appId&gt;||dapr.internal.&lt;ns&gt;.&lt;appId&gt;.workflow||&lt;instanceId&gt;||{metadata, history-NNNNNN, inbox-NNNNNN, customStatus}`
/// holding protobuf (`BackendWorkflowStateMetadata`, `HistoryEvent`, `StringValue`), so daprd can read what the local
/// sidecar wrote and the other way round. Two sidecar-private additions: `...||outbox` (messages to other instances
/// not yet delivered, length-delimited `WorkflowMessage`s) and `&lt;appId&gt;||wf-active||NN` (ids of instances that are
/// not finished, so a restart loads only those). Every change of one instance is one transaction.
/// </summary>
public sealed class WorkflowStore(IStateStore store, string appId)
{
    private const int ActiveBuckets = 16;
    private readonly SemaphoreSlim[] _bucketGates = [.. Enumerable.Range(0, ActiveBuckets).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly HashSet<string>[] _active = [.. Enumerable.Range(0, ActiveBuckets).Select(_ => new HashSet<string>(StringComparer.Ordinal))];

    public string ActorType { get; } = $"dapr.internal.{Namespace}.{appId}.workflow";

    private static string Namespace => Environment.GetEnvironmentVariable("NAMESPACE") is { Length: > 0 } ns ? ns : "default";

    public string Key(string instanceId, string key) => StateKeys.ActorKey(appId, ActorType, instanceId, key);

    public static string Indexed(string prefix, int i) => $"{prefix}-{i.ToString("D6", CultureInfo.InvariantCulture)}";

    /// <summary>Null when the instance has no metadata (never created, or purged).</summary>
    public async Task<InstanceRecord?> LoadAsync(string instanceId, CancellationToken ct)
    {
        var metaEntry = await store.GetAsync(Key(instanceId, "metadata"), ct);
        if (metaEntry is null)
        {
            return null;
        }

        var meta = BackendWorkflowStateMetadata.Parser.ParseFrom(metaEntry.Value);
        var historyCount = checked((int)meta.HistoryLength);
        var inboxCount = checked((int)meta.InboxLength);
        var keys = new List<string>(historyCount + inboxCount + 2);
        keys.AddRange(Enumerable.Range(0, historyCount).Select(i => Key(instanceId, Indexed("history", i))));
        keys.AddRange(Enumerable.Range(0, inboxCount).Select(i => Key(instanceId, Indexed("inbox", i))));
        keys.Add(Key(instanceId, "customStatus"));
        keys.Add(Key(instanceId, "outbox"));
        var values = await store.GetManyAsync(keys, ct);
        HistoryEvent Event(int i) => values[i] is { } e
            ? HistoryEvent.Parser.ParseFrom(e.Value)
            : throw new InvalidDataException($"workflow {instanceId}: {keys[i]} is missing although metadata lists it");
        var history = Enumerable.Range(0, historyCount).Select(Event).ToList();
        var inbox = Enumerable.Range(historyCount, inboxCount).Select(Event).ToList();
        string? customStatus = null;
        if (values[^2] is { Value.Length: > 0 } cs)
        {
            var sv = Google.Protobuf.WellKnownTypes.StringValue.Parser.ParseFrom(cs.Value);
            customStatus = sv.Value.Length > 0 ? sv.Value : null;
        }

        var outbox = new List<WorkflowMessage>();
        if (values[^1] is { Value.Length: > 0 } ob)
        {
            using var ms = new MemoryStream(ob.Value);
            while (ms.Position < ms.Length)
            {
                outbox.Add(WorkflowMessage.Parser.ParseDelimitedFrom(ms));
            }
        }

        return new InstanceRecord(history, inbox, customStatus, meta.Generation == 0 ? 1 : meta.Generation, outbox);
    }

    /// <summary>
    /// Writes <paramref name="next"/> over <paramref name="current"/> in one transaction: only what changed (appended
    /// history, the inbox, custom status, outbox) plus the metadata row. A history that does not extend the current one
    /// (continue-as-new, recreate) is written whole and the surplus keys deleted.
    /// </summary>
    public async Task SaveAsync(string instanceId, InstanceRecord current, InstanceRecord next, CancellationToken ct)
    {
        var ops = new List<StateOperation>();
        Upserts(ops, instanceId, "history", current.History, next.History);
        Upserts(ops, instanceId, "inbox", current.Inbox, next.Inbox);
        if (current.CustomStatus != next.CustomStatus || (current.History.Count == 0 && next.History.Count > 0))
        {
            ops.Add(Upsert(Key(instanceId, "customStatus"), new Google.Protobuf.WellKnownTypes.StringValue { Value = next.CustomStatus ?? "" }.ToByteArray()));
        }

        if (!ReferenceEquals(current.Outbox, next.Outbox) && !(current.Outbox.Count == 0 && next.Outbox.Count == 0))
        {
            if (next.Outbox.Count == 0)
            {
                ops.Add(Delete(Key(instanceId, "outbox")));
            }
            else
            {
                using var ms = new MemoryStream();
                foreach (var m in next.Outbox)
                {
                    m.WriteDelimitedTo(ms);
                }

                ops.Add(Upsert(Key(instanceId, "outbox"), ms.ToArray()));
            }
        }

        var meta = new BackendWorkflowStateMetadata
        {
            HistoryLength = (ulong)next.History.Count,
            InboxLength = (ulong)next.Inbox.Count,
            Generation = next.Generation,
        };
        ops.Add(Upsert(Key(instanceId, "metadata"), meta.ToByteArray()));
        await store.ExecuteTransactionAsync(ops, ct);
    }

    /// <summary>Deletes every key of the instance (purge).</summary>
    public Task DeleteAsync(string instanceId, InstanceRecord current, CancellationToken ct)
    {
        var ops = new List<StateOperation>();
        ops.AddRange(Enumerable.Range(0, current.History.Count).Select(i => Delete(Key(instanceId, Indexed("history", i)))));
        ops.AddRange(Enumerable.Range(0, current.Inbox.Count).Select(i => Delete(Key(instanceId, Indexed("inbox", i)))));
        ops.Add(Delete(Key(instanceId, "customStatus")));
        ops.Add(Delete(Key(instanceId, "outbox")));
        ops.Add(Delete(Key(instanceId, "metadata")));
        return store.ExecuteTransactionAsync(ops, ct);
    }

    /// <summary>Instance ids in key order after <paramref name="afterId"/>, as daprd lists them (its `||metadata` keys).</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string? afterId, int limit, CancellationToken ct)
    {
        var prefix = $"{appId}||{ActorType}||";
        const string Suffix = "||metadata";
        var keys = await store.ListKeysAsync(prefix, Suffix, afterId is null ? null : prefix + afterId + Suffix, limit, ct);
        return [.. keys.Select(k => k[prefix.Length..^Suffix.Length])];
    }

    /// <summary>Reads the active set (ids of unfinished instances) at start-up.</summary>
    public async Task<IReadOnlyList<string>> LoadActiveAsync(CancellationToken ct)
    {
        var entries = await store.GetManyAsync([.. Enumerable.Range(0, ActiveBuckets).Select(ActiveKey)], ct);
        for (var b = 0; b < ActiveBuckets; b++)
        {
            _active[b].Clear();
            if (entries[b] is { } e)
            {
                _active[b].UnionWith(JsonSerializer.Deserialize<List<string>>(e.Value) ?? []);
            }
        }

        return [.. _active.SelectMany(s => s)];
    }

    /// <summary>Adds an id before the instance's first commit (a crash in between leaves an id that start-up drops).</summary>
    public Task AddActiveAsync(string instanceId, CancellationToken ct) => ChangeActiveAsync(instanceId, add: true, ct);

    /// <summary>Removes an id once the instance is finished and its outbox delivered (or purged).</summary>
    public Task RemoveActiveAsync(string instanceId, CancellationToken ct) => ChangeActiveAsync(instanceId, add: false, ct);

    private async Task ChangeActiveAsync(string instanceId, bool add, CancellationToken ct)
    {
        var b = Bucket(instanceId);
        await _bucketGates[b].WaitAsync(ct);
        try
        {
            var set = _active[b];
            if (add ? set.Contains(instanceId) : !set.Contains(instanceId))
            {
                return;
            }

            var next = new HashSet<string>(set, StringComparer.Ordinal);
            if (add)
            {
                next.Add(instanceId);
            }
            else
            {
                next.Remove(instanceId);
            }

            var bytes = JsonSerializer.SerializeToUtf8Bytes(next.Order(StringComparer.Ordinal).ToList());
            await store.SetAsync(new StateWrite(ActiveKey(b), bytes, null, new Dictionary<string, string>()), ct);
            _active[b] = next;
        }
        finally
        {
            _bucketGates[b].Release();
        }
    }

    /// <summary>A stable bucket (string.GetHashCode is randomised per process).</summary>
    private static int Bucket(string id)
    {
        uint h = 2166136261;
        foreach (var c in id)
        {
            h = (h ^ c) * 16777619;
        }

        return (int)(h % ActiveBuckets);
    }

    private string ActiveKey(int bucket) => $"{appId}||wf-active||{bucket.ToString("D2", CultureInfo.InvariantCulture)}";

    private void Upserts(List<StateOperation> ops, string instanceId, string prefix, IReadOnlyList<HistoryEvent> current, IReadOnlyList<HistoryEvent> next)
    {
        var same = 0;
        while (same < current.Count && same < next.Count && ReferenceEquals(current[same], next[same]))
        {
            same++;
        }

        for (var i = same; i < next.Count; i++)
        {
            ops.Add(Upsert(Key(instanceId, Indexed(prefix, i)), next[i].ToByteArray()));
        }

        for (var i = next.Count; i < current.Count; i++)
        {
            ops.Add(Delete(Key(instanceId, Indexed(prefix, i))));
        }
    }

    private static UpsertOperation Upsert(string key, byte[] value) => new(new StateWrite(key, value, null, new Dictionary<string, string>()));

    private static DeleteOperation Delete(string key) => new(new StateDelete(key, null, new Dictionary<string, string>()));
}
