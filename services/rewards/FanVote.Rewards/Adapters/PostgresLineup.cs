using System.Text.Json;
using FanVote.Contracts;
using FanVote.Rewards.Core;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Rewards.Adapters;

/// <summary>One live format on the show's lineup: what it is, its id and title, where it stands, and for whom.</summary>
public sealed record LineupItem(string Kind, string Id, string Title, string State, DateTimeOffset OpensAt, DateTimeOffset? ClosesAt, string? MinTier);

/// <summary>
/// What is on now (or soon, or just ended) across the live formats rewards runs: polls, trivia rounds, raffles and
/// wheels, at most <see cref="PerKind"/> of each, read from the same tables their routes use (nothing kept beside them).
/// Ended ones stay listed for <see cref="RecentlyEnded"/> so a fan sees how a poll came out or who won a raffle.
/// </summary>
public sealed class PostgresLineup(PostgresPointsLedger ledger)
{
    public const int PerKind = 20;

    public static readonly TimeSpan RecentlyEnded = TimeSpan.FromMinutes(15);

    public async Task<List<LineupItem>> NowAsync(DateTimeOffset now, CancellationToken ct)
    {
        var since = now - RecentlyEnded;
        var items = new List<LineupItem>();
        await ReadAsync(items, "SELECT poll_id, title, opens_at, closes_at, min_tier FROM polls WHERE closes_at > $1 ORDER BY opens_at, poll_id", since, r =>
        {
            var (opens, closes) = (At(r.GetDateTime(2)), At(r.GetDateTime(3)));
            return new("poll", r.GetString(0), r.GetString(1), PollRecord.StateAt(opens, closes, now), opens, closes, r.IsDBNull(4) ? null : r.GetString(4));
        }, ct);
        await ReadAsync(items, "SELECT round_id, title, starts_at, gap_seconds, questions FROM trivia_rounds WHERE credited_at IS NULL OR credited_at > $1 ORDER BY starts_at, round_id", since, r =>
        {
            var questions = JsonSerializer.Deserialize<List<TriviaQuestion>>(r.GetString(4), FanVoteJson.Options) ?? [];
            var round = new TriviaRound(r.GetString(0), r.GetString(1), questions, At(r.GetDateTime(2)), r.GetInt32(3));
            var ends = questions.Count > 0 ? round.ClosesAt(questions.Count - 1) : round.StartsAt;
            return new("trivia", round.RoundId, round.Title, now < round.StartsAt ? "scheduled" : now < ends ? "live" : "ended", round.StartsAt, ends, null);
        }, ct);
        await ReadAsync(items, "SELECT raffle_id, name, opens_at, closes_at, drawn_at, min_tier FROM raffles WHERE drawn_at IS NULL OR drawn_at > $1 ORDER BY closes_at, raffle_id", since, r =>
        {
            var (opens, closes) = (At(r.GetDateTime(2)), At(r.GetDateTime(3)));
            DateTimeOffset? drawn = r.IsDBNull(4) ? null : At(r.GetDateTime(4));
            return new("raffle", r.GetString(0), r.GetString(1), RaffleRecord.StateAt(opens, closes, drawn, now), opens, closes, r.IsDBNull(5) ? null : r.GetString(5));
        }, ct);
        await ReadAsync(items, "SELECT wheel_id, name, opens_at, closes_at FROM spin_wheels WHERE closed_at IS NULL AND (closes_at IS NULL OR closes_at > $1) ORDER BY opens_at, wheel_id", now, r =>
        {
            var opens = At(r.GetDateTime(2));
            DateTimeOffset? closes = r.IsDBNull(3) ? null : At(r.GetDateTime(3));
            return new("wheel", r.GetString(0), r.GetString(1), WheelRecord.StateAt(opens, closes, null, now), opens, closes, null);
        }, ct);
        return items;
    }

    /// <summary>Appends to <paramref name="items"/> the first <see cref="PerKind"/> rows of <paramref name="sql"/> (one time parameter, $1), each made by <paramref name="item"/>.</summary>
    private async Task ReadAsync(List<LineupItem> items, string sql, DateTimeOffset at, Func<NpgsqlDataReader, LineupItem> item, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand($"{sql} LIMIT {PerKind}");
        cmd.Parameters.Add(Time(at));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            items.Add(item(r));
        }
    }

    private static DateTimeOffset At(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    private static NpgsqlParameter Time(DateTimeOffset at) => new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
