using System.Text.Json;
using FanVote.Contracts;
using FanVote.ServiceDefaults;
using Npgsql;

namespace FanVote.Tally.Adapters;

/// <summary>
/// Tally's part of a fan's export and erasure: the account's votes (counted and quarantined, newest first, at most
/// <see cref="MaxRows"/> of each) with their fraud flags; the erasure minimizes them now (<see cref="PostgresRetention.EraseAccountAsync"/>)
/// instead of 30 days after their window. Both scan the vote tables: there is no index by account, which would tax
/// every vote written for a request that is rare.
/// </summary>
public sealed class TallyFanData(PostgresVoteLedger ledger, PostgresAuditStore audit, PostgresRetention retention) : IFanDataHolder
{
    public const int MaxRows = 10_000;

    public async Task<JsonElement> ExportAsync(string accountId, CancellationToken cancellationToken)
    {
        await audit.EnsureSchemaAsync(cancellationToken);
        await using var conn = await ledger.DataSource.OpenConnectionAsync(cancellationToken);
        var votes = await RowsAsync(conn, "votes", "persisted_at", accountId, cancellationToken);
        var quarantined = await RowsAsync(conn, "quarantined_votes", "quarantined_at", accountId, cancellationToken);
        var flags = new List<object>();
        await using (var cmd = new NpgsqlCommand($"""
            SELECT f.vote_id, f.window_id, f.reason, f.subject_kind, f.score, f.model_version, f.flagged_at FROM vote_flags f
            WHERE f.vote_id IN (SELECT vote_id FROM votes WHERE account_id = @a UNION ALL SELECT vote_id FROM quarantined_votes WHERE account_id = @a)
            ORDER BY f.flagged_at DESC LIMIT {MaxRows}
            """, conn))
        {
            cmd.Parameters.AddWithValue("a", accountId);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                flags.Add(new { voteId = r.GetGuid(0), windowId = r.GetString(1), reason = r.GetString(2), subjectKind = r.GetString(3), score = r.GetDouble(4), model = r.GetString(5), flaggedAt = r.GetFieldValue<DateTimeOffset>(6) });
            }
        }

        return JsonSerializer.SerializeToElement(new
        {
            votes = votes.Rows,
            votesTotal = votes.Total,
            quarantined = quarantined.Rows,
            quarantinedTotal = quarantined.Total,
            flags,
            note = "device ids and addresses are kept raw for 30 days after a window closes (fraud checks); later, and after an erasure, as a keyed hash and a network prefix",
        }, FanVoteJson.Options);
    }

    public async Task<ErasureOutcome> EraseAsync(string accountId, CancellationToken cancellationToken)
    {
        var (votes, quarantined, flags) = await retention.EraseAccountAsync(accountId, cancellationToken);
        return new ErasureOutcome(
            [
                $"the device id and address of every vote of the account ({votes} votes, {quarantined} quarantined, {flags} device flags changed now): only a keyed hash of the device and the address's network prefix stay, as for every vote 30 days after its window",
                "votes of the account that land later (in flight at the erasure; counted or quarantined, and device flags on them) are minimized by the next retention pass",
            ],
            [
                "each vote's id, window, candidate, time and the account id (a random id no longer linked to you): the counts, the audit's Merkle leaves and the certified results stay exactly as they were, and anyone can still check them",
            ]);
    }

    private static async Task<(List<object> Rows, long Total)> RowsAsync(NpgsqlConnection conn, string table, string timeColumn, string accountId, CancellationToken ct)
    {
        var rows = new List<object>();
        long total = 0;
        await using var cmd = new NpgsqlCommand($"""
            SELECT vote_id, window_id, candidate_id, accepted_at, device_id, ip, minimized_at IS NOT NULL, {timeColumn}, count(*) OVER ()
            FROM {table} WHERE account_id = @a ORDER BY accepted_at DESC LIMIT {MaxRows}
            """, conn);
        cmd.Parameters.AddWithValue("a", accountId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            total = r.GetInt64(8);
            rows.Add(new
            {
                voteId = r.GetGuid(0),
                windowId = r.GetString(1),
                candidateId = r.GetString(2),
                acceptedAt = r.GetFieldValue<DateTimeOffset>(3),
                deviceId = r.GetString(4),
                ip = r.GetString(5),
                minimized = r.GetBoolean(6),
                storedAt = r.GetFieldValue<DateTimeOffset>(7),
            });
        }

        return (rows, total);
    }
}
