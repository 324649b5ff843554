using System.Text.Json;
using Dapr;
using Dapr.Client;
using FanVote.ActionLog;
using FanVote.Contracts;
using FanVote.Security;

namespace FanVote.Orchestrator.ActionLog;

/// <summary>Where the action log's anchors go (FANVOTE_ACTION_LOG_ANCHORS); empty: none (Development only).</summary>
public sealed record ActionLogOptions(string AnchorFile);

/// <summary>
/// The operator action log in the orchestrator's Dapr state store: row N under <c>action-log|N</c> (12 digits), the
/// head (seq, hash and the last row) under <c>action-log|head</c>, each action id's row under <c>action-log|id|ID</c>,
/// never expiring. An append reads the head with its etag, chains the row after it (<see cref="ActionChain"/>, the key
/// only the orchestrator holds) and claims the position by writing the head, row inside, with that etag: two instances
/// appending at once cannot both take the same position, the loser reads the new head and tries again. The row is then
/// written out under its own key (and again by the next append if its writer died first). After
/// each append the head is anchored outside the store (<see cref="AppendOnlyFile"/>), so whoever administers the store
/// can neither change, remove, reorder nor cut rows without `./fanvote actions verify` naming them. There is no delete.
/// </summary>
public sealed class DaprActionLog(DaprClient dapr, ActionLogKey key, ActionLogOptions options, ILogger<DaprActionLog> log)
{
    /// <summary>The most rows one read returns.</summary>
    public const int MaxPage = 500;

    private const string HeadKey = "action-log|head";
    private const int MaxAttempts = 40;

    /// <summary>The head: the last row's seq and hash, and the row itself (so a claimed row is never lost, see below).</summary>
    private sealed record Head(long Seq, string Hash, ActionRecord? Last);

    private static string RowKey(long seq) => $"action-log|{seq:D12}";

    private static string IdKey(string id) => $"action-log|id|{id}";

    /// <summary>Appends <paramref name="draft"/> unless an action with its id is logged already (then that row is returned).</summary>
    public async Task<ActionRecord> AppendAsync(ActionDraft draft, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(draft);
        for (var attempt = 1; ; attempt++)
        {
            if (attempt > MaxAttempts)
            {
                throw new InvalidOperationException($"the action log's head kept moving or could not be created: no position claimed in {MaxAttempts} attempts");
            }

            var (head, etag) = await dapr.GetStateAndETagAsync<Head?>(ComponentNames.State, HeadKey, cancellationToken: ct);
            if (head is null)
            {
                await InitializeAsync(ct);
                continue;
            }

            if (head.Last is { } last)
            {
                // The instance that claimed the last row may have died before writing it out: write it (the same bytes).
                await MaterializeAsync(last, ct);
                if (last.Id == draft.Id)
                {
                    return last;
                }
            }

            if (await dapr.GetStateAsync<long?>(ComponentNames.State, IdKey(draft.Id), cancellationToken: ct) is { } logged
                && await dapr.GetStateAsync<ActionRecord?>(ComponentNames.State, RowKey(logged), cancellationToken: ct) is { } existing)
            {
                return existing;
            }

            // Claim the next position: one conditional write of the head alone (atomic in every store; a transaction is
            // not, daprd's Redis store applies the other writes of a transaction whose etag fails). The row rides in the head.
            var row = ActionChain.Next(key, head.Seq, head.Hash, draft);
            bool claimed;
            try
            {
                claimed = await dapr.TrySaveStateAsync(ComponentNames.State, HeadKey, new Head(row.Seq, row.Hash, row), etag, cancellationToken: ct);
            }
            catch (DaprException) when (attempt < MaxAttempts && !ct.IsCancellationRequested)
            {
                claimed = false; // the store hiccuped: read again
            }

            if (!claimed)
            {
                // Another instance took this position: read the new head and chain after it.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * Math.Min(attempt, 10))), ct);
                continue;
            }

            await MaterializeAsync(row, ct);
            OrchestratorLog.ActionLogged(log, row.Seq, row.Action, row.Target, row.Actor, new FanVote.ServiceDefaults.RedactedIp(row.From), row.Outcome);
            Anchor(row);
            return row;
        }
    }

    /// <summary>Writes a claimed row and its id out of the head (unconditionally: whoever writes it writes the same bytes).</summary>
    private Task MaterializeAsync(ActionRecord row, CancellationToken ct) =>
        dapr.ExecuteStateTransactionAsync(ComponentNames.State,
        [
            new StateTransactionRequest(RowKey(row.Seq), Json(row), StateOperationType.Upsert),
            new StateTransactionRequest(IdKey(row.Id), Json(row.Seq), StateOperationType.Upsert),
        ], cancellationToken: ct);

    /// <summary>
    /// Creates the empty log's head, once. Redis stores (daprd's and the local sidecar's) accept an etag on a missing
    /// key and create it, and bump the version on every write: etag "1" creates the head, or rewrites the still empty
    /// head another instance just created, but fails once anything was appended (the version is past 1). Stores whose
    /// etags are not versions (PostgreSQL's are uuids) refuse it; for them a first-write save inserts only if absent.
    /// </summary>
    private async Task InitializeAsync(CancellationToken ct)
    {
        var empty = new Head(0, ActionChain.Genesis, null);
        try
        {
            if (await dapr.TrySaveStateAsync(ComponentNames.State, HeadKey, empty, "1", cancellationToken: ct))
            {
                return;
            }
        }
        catch (DaprException)
        {
            // Not a version etag for this store: below.
        }

        if (await dapr.GetStateAsync<Head?>(ComponentNames.State, HeadKey, cancellationToken: ct) is null)
        {
            try
            {
                await dapr.SaveStateAsync(ComponentNames.State, HeadKey, empty, new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, cancellationToken: ct);
            }
            catch (DaprException)
            {
                // Created meanwhile by another instance.
            }
        }
    }

    /// <summary>Rows after <paramref name="after"/>, oldest first, at most <paramref name="limit"/>, and the log's head seq.</summary>
    public async Task<(long Head, IReadOnlyList<ActionRecord> Rows)> ReadAsync(long after, int limit, CancellationToken ct)
    {
        var head = await dapr.GetStateAsync<Head?>(ComponentNames.State, HeadKey, cancellationToken: ct);
        var last = Math.Min(head?.Seq ?? 0, after + Math.Clamp(limit, 1, MaxPage));
        if (last <= after)
        {
            return (head?.Seq ?? 0, []);
        }

        var keys = new List<string>();
        for (var seq = Math.Max(after, 0) + 1; seq <= last; seq++)
        {
            keys.Add(RowKey(seq));
        }

        var items = await dapr.GetBulkStateAsync(ComponentNames.State, keys, parallelism: 8, cancellationToken: ct);
        var rows = items.Where(i => !string.IsNullOrEmpty(i.Value))
            .Select(i => JsonSerializer.Deserialize<ActionRecord>(i.Value, FanVoteJson.Options)!)
            .ToList();
        if (head!.Last is { } claimed && claimed.Seq == last && rows.All(r => r.Seq != claimed.Seq))
        {
            rows.Add(claimed); // claimed, not yet written out
        }

        return (head.Seq, [.. rows.OrderBy(r => r.Seq)]);
    }

    private void Anchor(ActionRecord row)
    {
        if (options.AnchorFile is not { Length: > 0 } path)
        {
            return;
        }

        try
        {
            AppendOnlyFile.AppendLine(path, key.Anchors.Line(new ChainAnchor(row.Seq, Convert.FromHexString(row.Hash), row.At)));
        }
        catch (IOException e)
        {
            // The row is stored: the next append anchors a later head, which covers it.
            OrchestratorLog.AnchorFailed(log, row.Seq, path, e.Message);
        }
    }

    private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, FanVoteJson.Options);
}
