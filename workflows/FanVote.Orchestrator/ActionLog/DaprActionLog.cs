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
/// head (seq, hash) under <c>action-log|head</c>, each action id's row under <c>action-log|id|ID</c>, never expiring.
/// An append reads the head with its etag, chains the row after it (<see cref="ActionChain"/>, the key only the
/// orchestrator holds) and writes row, id and head in one state transaction whose head write carries that etag: two
/// instances appending at once cannot both take the same position, the loser reads the new head and tries again. After
/// each append the head is anchored outside the store (<see cref="AppendOnlyFile"/>), so whoever administers the store
/// can neither change, remove, reorder nor cut rows without `./fanvote actions verify` naming them. There is no delete.
/// </summary>
public sealed class DaprActionLog(DaprClient dapr, ActionLogKey key, ActionLogOptions options, ILogger<DaprActionLog> log)
{
    /// <summary>The most rows one read returns.</summary>
    public const int MaxPage = 500;

    private const string HeadKey = "action-log|head";
    private const int MaxAttempts = 40;

    private sealed record Head(long Seq, string Hash);

    private static string RowKey(long seq) => $"action-log|{seq:D12}";

    private static string IdKey(string id) => $"action-log|id|{id}";

    /// <summary>Appends <paramref name="draft"/> unless an action with its id is logged already (then that row is returned).</summary>
    public async Task<ActionRecord> AppendAsync(ActionDraft draft, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(draft);
        for (var attempt = 1; ; attempt++)
        {
            if (await dapr.GetStateAsync<long?>(ComponentNames.State, IdKey(draft.Id), cancellationToken: ct) is { } logged
                && await dapr.GetStateAsync<ActionRecord?>(ComponentNames.State, RowKey(logged), cancellationToken: ct) is { } existing)
            {
                return existing;
            }

            var (head, etag) = await dapr.GetStateAndETagAsync<Head?>(ComponentNames.State, HeadKey, cancellationToken: ct);
            if (head is null)
            {
                // The empty log's head: every instance writes the same value, so racing here is harmless; the appends
                // below all need its etag.
                await dapr.SaveStateAsync(ComponentNames.State, HeadKey, new Head(0, ActionChain.Genesis), cancellationToken: ct);
                continue;
            }

            var row = ActionChain.Next(key, head.Seq, head.Hash, draft);
            try
            {
                await dapr.ExecuteStateTransactionAsync(ComponentNames.State,
                [
                    new StateTransactionRequest(RowKey(row.Seq), Json(row), StateOperationType.Upsert),
                    new StateTransactionRequest(IdKey(row.Id), Json(row.Seq), StateOperationType.Upsert),
                    new StateTransactionRequest(HeadKey, Json(new Head(row.Seq, row.Hash)), StateOperationType.Upsert, etag),
                ], cancellationToken: ct);
            }
            catch (DaprException) when (attempt < MaxAttempts && !ct.IsCancellationRequested)
            {
                // Another instance moved the head (an etag mismatch fails the whole transaction) or the store hiccuped: read again.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * Math.Min(attempt, 10))), ct);
                continue;
            }

            OrchestratorLog.ActionLogged(log, row.Seq, row.Action, row.Target, row.Actor, new FanVote.ServiceDefaults.RedactedIp(row.From), row.Outcome);
            Anchor(row);
            return row;
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
            .OrderBy(r => r.Seq).ToList();
        return (head!.Seq, rows);
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
