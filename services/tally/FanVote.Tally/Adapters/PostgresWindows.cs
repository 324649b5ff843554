using System.Collections.Concurrent;
using FanVote.Tally.Core;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Tally.Adapters;

/// <summary>
/// The windows tally knows (table `windows`, from the orchestrator's WindowScheduled), cached in memory. The votes
/// screen looks them up per batch: from memory, else one query for the missing ones (another tally instance may have
/// stored the window), else the window is not known yet.
/// </summary>
public sealed class PostgresWindows(PostgresVoteLedger ledger)
{
    private readonly ConcurrentDictionary<string, TallyWindow> _known = new(StringComparer.Ordinal);

    /// <summary>Stores the window (the first definition of an id stays: the orchestrator never changes a window once created).</summary>
    public async Task SaveAsync(TallyWindow window, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(window);
        await using var cmd = ledger.DataSource.CreateCommand("""
            INSERT INTO windows (window_id, opens_at, closes_at, candidates) VALUES ($1, $2, $3, $4) ON CONFLICT (window_id) DO NOTHING
            """);
        cmd.Parameters.AddWithValue(window.WindowId);
        cmd.Parameters.Add(new NpgsqlParameter { Value = window.OpensAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = window.ClosesAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = window.Candidates.ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
        _known.TryRemove(window.WindowId, out _); // read back what is stored (the first definition)
    }

    /// <summary>The windows among <paramref name="windowIds"/> that are known (absent ids are not known yet).</summary>
    public async Task<IReadOnlyDictionary<string, TallyWindow>> FindAsync(IEnumerable<string> windowIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(windowIds);
        var found = new Dictionary<string, TallyWindow>(StringComparer.Ordinal);
        List<string>? missing = null;
        foreach (var id in windowIds.Distinct(StringComparer.Ordinal))
        {
            if (_known.TryGetValue(id, out var w))
            {
                found[id] = w;
            }
            else
            {
                (missing ??= []).Add(id);
            }
        }

        if (missing is null)
        {
            return found;
        }

        await using var cmd = ledger.DataSource.CreateCommand("SELECT window_id, opens_at, closes_at, candidates FROM windows WHERE window_id = ANY($1)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = missing.ToArray() });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var w = new TallyWindow(r.GetString(0), r.GetFieldValue<DateTimeOffset>(1), r.GetFieldValue<DateTimeOffset>(2), r.GetFieldValue<string[]>(3));
            _known[w.WindowId] = w;
            found[w.WindowId] = w;
        }

        return found;
    }
}
