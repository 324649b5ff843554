using System.Security.Cryptography;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Rewards.Core;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Rewards.Adapters;

/// <summary>A round as stored: the definition (with the sealed answers), the secret salt, who made it, whether its points are credited.</summary>
public sealed record TriviaRecord(TriviaRound Round, byte[] Salt, string CreatedBy, DateTimeOffset? CreditedAt, IReadOnlySet<int> Scored);

public enum TriviaRefusal
{
    NotOpenYet,
    Closed,
    AlreadyAnswered,
}

/// <summary>A fan's answer, stored now or before (<see cref="Repeated"/>), or why not.</summary>
public sealed record TriviaAnswerResult(DateTimeOffset? AnsweredAt, bool Repeated, TriviaRefusal? Refusal = null, TriviaRecord? Round = null);

/// <summary>One line of a leaderboard: the fan's per-round pseudonym (as raffles'), their points, rank and answers scored.</summary>
public sealed record LeaderboardLine(int Rank, string Holder, long Points, int Correct);

/// <summary>
/// Trivia in rewards' database. An answer is one row per (round, question, account), stamped with the server's time
/// when it arrives, accepted only while the question is open: a second answer is the first one again (200) or refused
/// (409). <see cref="TriviaRoundWorkflow"/> scores each question once after its close (one UPDATE of its answers' points in
/// the transaction that marks it scored), and credits the round's points to each fan's ledger account once the last
/// question is scored (one ledger append, each fan's entry once).
/// </summary>
public sealed class PostgresTrivia(PostgresPointsLedger ledger)
{
    public async Task<(bool Created, TriviaRecord Record)> CreateAsync(TriviaRound round, string createdBy, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(round);
        await using var cmd = ledger.DataSource.CreateCommand("""
            INSERT INTO trivia_rounds (round_id, title, questions, seal_salt, created_by, created_at, starts_at, gap_seconds)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (round_id) DO NOTHING
            """);
        cmd.Parameters.AddWithValue(round.RoundId);
        cmd.Parameters.AddWithValue(round.Title);
        cmd.Parameters.AddWithValue(JsonSerializer.Serialize(round.Questions, FanVoteJson.Options));
        cmd.Parameters.AddWithValue(RandomNumberGenerator.GetBytes(32));
        cmd.Parameters.AddWithValue(createdBy);
        cmd.Parameters.Add(Time(now));
        cmd.Parameters.Add(Time(round.StartsAt));
        cmd.Parameters.AddWithValue(round.GapSeconds);
        var created = await cmd.ExecuteNonQueryAsync(ct) == 1;
        return (created, (await GetAsync(round.RoundId, ct))!);
    }

    public async Task<TriviaRecord?> GetAsync(string roundId, CancellationToken ct)
    {
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, null, roundId, ct);
    }

    /// <summary>Stores the fan's answer to a question of <paramref name="record"/> (the caller checked the question and the choice exist).</summary>
    public async Task<TriviaAnswerResult> AnswerAsync(TriviaRecord record, int question, string accountId, string choice, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(record);
        var roundId = record.Round.RoundId;
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            await using (var before = new NpgsqlCommand("SELECT choice, answered_at FROM trivia_answers WHERE round_id = $1 AND question = $2 AND account_id = $3", conn))
            {
                before.Parameters.AddWithValue(roundId);
                before.Parameters.AddWithValue(question);
                before.Parameters.AddWithValue(accountId);
                await using var r = await before.ExecuteReaderAsync(ct);
                if (await r.ReadAsync(ct))
                {
                    return r.GetString(0) == choice
                        ? new TriviaAnswerResult(r.GetFieldValue<DateTimeOffset>(1), true, Round: record)
                        : new TriviaAnswerResult(null, false, TriviaRefusal.AlreadyAnswered, record);
                }
            }

            switch (record.Round.State(question, now))
            {
                case "scheduled":
                    return new TriviaAnswerResult(null, false, TriviaRefusal.NotOpenYet, record);
                case "closed":
                    return new TriviaAnswerResult(null, false, TriviaRefusal.Closed, record);
            }

            // Only while open (this instance's clock), and never once the question is scored: an answer that raced the
            // scoring anyway is scored before the round is credited (ScorePendingAsync).
            await using var insert = new NpgsqlCommand("""
                INSERT INTO trivia_answers (round_id, question, account_id, choice, answered_at)
                SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM trivia_scored WHERE round_id = $1 AND question = $2)
                ON CONFLICT DO NOTHING
                """, conn);
            insert.Parameters.AddWithValue(roundId);
            insert.Parameters.AddWithValue(question);
            insert.Parameters.AddWithValue(accountId);
            insert.Parameters.AddWithValue(choice);
            insert.Parameters.Add(Time(now));
            if (await insert.ExecuteNonQueryAsync(ct) == 1)
            {
                return new TriviaAnswerResult(now, false, Round: record);
            }

            if (record.Scored.Contains(question) || await IsScoredAsync(conn, roundId, question, ct))
            {
                return new TriviaAnswerResult(null, false, TriviaRefusal.Closed, record);
            }
        }

        return new TriviaAnswerResult(null, false, TriviaRefusal.AlreadyAnswered, record);
    }

    /// <summary>
    /// Scores each question of the round whose time to be scored has come (<see cref="TriviaRound.ScoreAt"/>; each
    /// question once), and credits the round once its last question's time has come. Null: no such round; else whether
    /// the round is credited. Safe to run again at any time: every step is done once.
    /// </summary>
    public async Task<bool?> ScoreRoundAsync(string roundId, DateTimeOffset now, CancellationToken ct)
    {
        var record = await GetAsync(roundId, ct);
        if (record is null)
        {
            return null;
        }

        if (record.CreditedAt is not null)
        {
            return true;
        }

        var round = record.Round;
        for (var q = 0; q < round.Questions.Count; q++)
        {
            if (!record.Scored.Contains(q) && now >= round.ScoreAt(q))
            {
                await ScoreAsync(round, q, now, ct);
            }
        }

        if (now < round.ScoreAt(round.Questions.Count - 1))
        {
            return false;
        }

        await CreditAsync(roundId, now, ct);
        return true;
    }

    /// <summary>The round's leaderboard: every fan with points, highest first (ties: the earlier last answer first), top <paramref name="top"/>.</summary>
    public async Task<List<(LeaderboardLine Line, string AccountId)>> LeaderboardAsync(string roundId, int top, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand("""
            SELECT account_id, sum(points)::bigint AS total, count(*) FILTER (WHERE points > 0)::int, max(answered_at) AS last
            FROM trivia_answers WHERE round_id = $1 AND points IS NOT NULL GROUP BY account_id
            ORDER BY total DESC, last, account_id LIMIT $2
            """);
        cmd.Parameters.AddWithValue(roundId);
        cmd.Parameters.AddWithValue(top);
        var lines = new List<(LeaderboardLine, string)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            lines.Add((new LeaderboardLine(lines.Count + 1, RaffleDraw.Holder(roundId, r.GetString(0)), r.GetInt64(1), r.GetInt32(2)), r.GetString(0)));
        }

        return lines;
    }

    /// <summary>How many answers the round has, and how many of them are scored.</summary>
    public async Task<(long Answers, long Scored)> AnswerCountsAsync(string roundId, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand("SELECT count(*), count(points) FROM trivia_answers WHERE round_id = $1");
        cmd.Parameters.AddWithValue(roundId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return (r.GetInt64(0), r.GetInt64(1));
    }

    private async Task<bool> ScoreAsync(TriviaRound round, int question, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var mark = new NpgsqlCommand("INSERT INTO trivia_scored (round_id, question, scored_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", conn, tx))
        {
            mark.Parameters.AddWithValue(round.RoundId);
            mark.Parameters.AddWithValue(question);
            mark.Parameters.Add(Time(now));
            if (await mark.ExecuteNonQueryAsync(ct) == 0)
            {
                return false; // another instance scored it
            }
        }

        await ScorePendingAsync(conn, tx, round, question, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Scores the question's answers that have no points yet: the same score as <see cref="TriviaRound.Score"/>, points
    /// + floor(bonus × the share of the window left), 0 if wrong. Run when the question is scored and again before the
    /// round is credited, so an answer whose insert raced the scoring is scored too.
    /// </summary>
    private static async Task ScorePendingAsync(NpgsqlConnection conn, NpgsqlTransaction tx, TriviaRound round, int question, CancellationToken ct)
    {
        var q = round.Questions[question];
        await using var score = new NpgsqlCommand("""
            UPDATE trivia_answers SET points = CASE WHEN choice = $3
              THEN $4 + floor($5 * greatest(0, least(1, 1 - extract(epoch FROM answered_at - $6) / $7)))::int ELSE 0 END
            WHERE round_id = $1 AND question = $2 AND points IS NULL
            """, conn, tx);
        score.Parameters.AddWithValue(round.RoundId);
        score.Parameters.AddWithValue(question);
        score.Parameters.AddWithValue(q.Correct);
        score.Parameters.AddWithValue(q.Points);
        score.Parameters.AddWithValue((double)q.SpeedBonus);
        score.Parameters.Add(Time(round.OpensAt(question)));
        score.Parameters.AddWithValue((double)q.Seconds);
        await score.ExecuteNonQueryAsync(ct);
    }

    private async Task CreditAsync(string roundId, DateTimeOffset now, CancellationToken ct)
    {
        await using var chain = await ledger.BeginChainAsync(ct);
        var (conn, tx) = (chain.Connection, chain.Transaction);
        var record = await ReadAsync(conn, tx, roundId, ct);
        if (record is null || record.CreditedAt is not null || record.Scored.Count < record.Round.Questions.Count)
        {
            return;
        }

        for (var q = 0; q < record.Round.Questions.Count; q++)
        {
            await ScorePendingAsync(conn, tx, record.Round, q, ct);
        }

        var totals = new List<(string Account, long Points)>();
        await using (var sum = new NpgsqlCommand("SELECT account_id, sum(points)::bigint FROM trivia_answers WHERE round_id = $1 GROUP BY account_id HAVING sum(points) > 0", conn, tx))
        {
            sum.Parameters.AddWithValue(roundId);
            await using var r = await sum.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                totals.Add((r.GetString(0), r.GetInt64(1)));
            }
        }

        var at = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        var appended = await ledger.AppendAsync(conn, tx, TriviaEntries.Scope(roundId), [.. totals.Select(t => TriviaEntries.Points(roundId, t.Account, t.Points, at))], ct);
        await using (var mark = new NpgsqlCommand("UPDATE trivia_rounds SET credited_at = $2 WHERE round_id = $1", conn, tx))
        {
            mark.Parameters.AddWithValue(roundId);
            mark.Parameters.Add(Time(at));
            await mark.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        if (appended.Appended > 0)
        {
            await ledger.AnchorAfterCommitAsync(appended.HeadSeq, appended.HeadHash, ct);
        }
    }

    /// <summary>For a fan's export: their trivia answers, with the time each arrived and its points once scored.</summary>
    public async Task<List<object>> AnswersOfAsync(string accountId, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand("SELECT round_id, question, choice, answered_at, points FROM trivia_answers WHERE account_id = $1 ORDER BY answered_at");
        cmd.Parameters.AddWithValue(accountId);
        var list = new List<object>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new { roundId = r.GetString(0), question = r.GetInt32(1), choice = r.GetString(2), answeredAt = r.GetFieldValue<DateTimeOffset>(3), points = r.IsDBNull(4) ? (int?)null : r.GetInt32(4) });
        }

        return list;
    }

    private static async Task<bool> IsScoredAsync(NpgsqlConnection conn, string roundId, int question, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM trivia_scored WHERE round_id = $1 AND question = $2)", conn);
        cmd.Parameters.AddWithValue(roundId);
        cmd.Parameters.AddWithValue(question);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task<TriviaRecord?> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string roundId, CancellationToken ct)
    {
        TriviaRecord? record;
        await using (var cmd = new NpgsqlCommand("SELECT round_id, title, questions, seal_salt, created_by, starts_at, gap_seconds, credited_at FROM trivia_rounds WHERE round_id = $1", conn, tx))
        {
            cmd.Parameters.AddWithValue(roundId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return null;
            }

            var round = new TriviaRound(r.GetString(0), r.GetString(1), JsonSerializer.Deserialize<List<TriviaQuestion>>(r.GetString(2), FanVoteJson.Options)!,
                r.GetFieldValue<DateTimeOffset>(5), r.GetInt32(6));
            record = new TriviaRecord(round, (byte[])r[3], r.GetString(4), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7), new HashSet<int>());
        }

        var scored = new HashSet<int>();
        await using (var cmd = new NpgsqlCommand("SELECT question FROM trivia_scored WHERE round_id = $1", conn, tx))
        {
            cmd.Parameters.AddWithValue(roundId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                scored.Add(r.GetInt32(0));
            }
        }

        return record with { Scored = scored };
    }

    private static NpgsqlParameter Time(DateTimeOffset at) => new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
