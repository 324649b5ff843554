using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Rewards.Adapters;

/// <summary>A poll as stored, with its times.</summary>
public sealed record PollRecord(Poll Poll, DateTimeOffset OpensAt, DateTimeOffset ClosesAt, string CreatedBy)
{
    public string State(DateTimeOffset now) => StateAt(OpensAt, ClosesAt, now);

    /// <summary>The rule of <see cref="State"/>, from the times alone (the lineup reads only those).</summary>
    public static string StateAt(DateTimeOffset opensAt, DateTimeOffset closesAt, DateTimeOffset now) =>
        now < opensAt ? "scheduled" : now < closesAt ? "open" : "closed";

    /// <summary>Whether results may be shown now: always, or only once closed when the poll hides them.</summary>
    public bool ResultsVisible(DateTimeOffset now) => !Poll.HideResultsUntilClose || State(now) == "closed";
}

public enum PollRefusal
{
    UnknownPoll,
    NotOpenYet,
    Closed,
    TierTooLow,
    AlreadyAnswered,
}

/// <summary>A fan's answer, stored now or before (<see cref="Repeated"/>), or why not (nothing stored then).</summary>
public sealed record PollAnswerResult(bool Stored, bool Repeated, PollRefusal? Refusal = null, PollRecord? Poll = null, FanStanding? Standing = null);

/// <summary>A question's counts.</summary>
public sealed record QuestionCounts(int Question, long Total, IReadOnlyDictionary<string, long> Counts);

/// <summary>
/// Polls in rewards' database. A fan answers once per poll (the account is the key): the answer row and one row per
/// choice commit together, so the counts (grouped choice rows) never count an answer twice nor half of one; the
/// same answer again is answered as before, another one is refused. <see cref="PollPublisher"/> sends each question's
/// counts to results while the poll is live.
/// </summary>
public sealed class PostgresPolls(PostgresPointsLedger ledger, PostgresTiers tiers)
{
    private const string Columns = "poll_id, title, questions, hide_results, min_tier, created_by, opens_at, closes_at";

    public async Task<(bool Created, PollRecord Record)> CreateAsync(Poll poll, DateTimeOffset opensAt, DateTimeOffset closesAt, string createdBy, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(poll);
        await using var cmd = ledger.DataSource.CreateCommand("""
            INSERT INTO polls (poll_id, title, questions, hide_results, min_tier, created_by, created_at, opens_at, closes_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (poll_id) DO NOTHING
            """);
        cmd.Parameters.AddWithValue(poll.PollId);
        cmd.Parameters.AddWithValue(poll.Title);
        cmd.Parameters.AddWithValue(JsonSerializer.Serialize(poll.Questions, FanVoteJson.Options));
        cmd.Parameters.AddWithValue(poll.HideResultsUntilClose);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)poll.MinTier ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.AddWithValue(createdBy);
        cmd.Parameters.Add(Time(now));
        cmd.Parameters.Add(Time(opensAt));
        cmd.Parameters.Add(Time(closesAt));
        var created = await cmd.ExecuteNonQueryAsync(ct) == 1;
        return (created, (await GetAsync(poll.PollId, ct))!);
    }

    /// <summary>
    /// Closes the poll at <paramref name="now"/> unless it is closed already (a poll not open yet closes unopened): answers
    /// are refused from then on, and the publisher sends its final counts. Null: no such poll.
    /// </summary>
    public async Task<(PollRecord Poll, bool ClosedNow)?> CloseAsync(string pollId, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand("UPDATE polls SET closes_at = $2, opens_at = least(opens_at, $2) WHERE poll_id = $1 AND closes_at > $2");
        cmd.Parameters.AddWithValue(pollId);
        cmd.Parameters.Add(Time(now));
        var closed = await cmd.ExecuteNonQueryAsync(ct) == 1;
        return await GetAsync(pollId, ct) is { } poll ? (poll, closed) : null;
    }

    public async Task<PollRecord?> GetAsync(string pollId, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand($"SELECT {Columns} FROM polls WHERE poll_id = $1");
        cmd.Parameters.AddWithValue(pollId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    public async Task<PollAnswerResult> AnswerAsync(string pollId, string accountId, IReadOnlyList<PollAnswer> answers, DateTimeOffset now, CancellationToken ct)
    {
        var poll = await GetAsync(pollId, ct);
        if (poll is null)
        {
            return new PollAnswerResult(false, false, PollRefusal.UnknownPoll);
        }

        var canonical = JsonSerializer.Serialize(answers.OrderBy(a => a.Question).Select(a => new PollAnswer(a.Question, [.. a.Choices.Order(StringComparer.Ordinal)])), FanVoteJson.Options);
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var before = new NpgsqlCommand("SELECT answers FROM poll_answers WHERE poll_id = $1 AND account_id = $2", conn, tx))
        {
            before.Parameters.AddWithValue(pollId);
            before.Parameters.AddWithValue(accountId);
            if (await before.ExecuteScalarAsync(ct) is string stored)
            {
                return stored == canonical ? new PollAnswerResult(true, true, Poll: poll) : new PollAnswerResult(false, false, PollRefusal.AlreadyAnswered, poll);
            }
        }

        switch (poll.State(now))
        {
            case "scheduled":
                return new PollAnswerResult(false, false, PollRefusal.NotOpenYet, poll);
            case "closed":
                return new PollAnswerResult(false, false, PollRefusal.Closed, poll);
        }

        if (poll.Poll.MinTier is not null)
        {
            var standing = await tiers.StandingAsync(conn, tx, accountId, ct);
            if (!tiers.Tiers.Admits(standing.Tier, poll.Poll.MinTier))
            {
                return new PollAnswerResult(false, false, PollRefusal.TierTooLow, poll, standing);
            }
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO poll_answers (poll_id, account_id, answers, answered_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
            """, conn, tx))
        {
            insert.Parameters.AddWithValue(pollId);
            insert.Parameters.AddWithValue(accountId);
            insert.Parameters.AddWithValue(canonical);
            insert.Parameters.Add(Time(now));
            if (await insert.ExecuteNonQueryAsync(ct) == 0)
            {
                // The same fan's concurrent request stored its answer first: answer as that one does.
                await tx.RollbackAsync(ct);
                return await AnswerAsync(pollId, accountId, answers, now, ct);
            }
        }

        var choices = answers.SelectMany(a => a.Choices.Select(c => (a.Question, Choice: c))).ToList();
        await using (var rows = new NpgsqlCommand("""
            INSERT INTO poll_choices (poll_id, question, option_id, account_id) SELECT $1, q, o, $2 FROM unnest($3::int[], $4::text[]) AS c(q, o)
            """, conn, tx))
        {
            rows.Parameters.AddWithValue(pollId);
            rows.Parameters.AddWithValue(accountId);
            rows.Parameters.Add(new NpgsqlParameter { Value = choices.Select(c => c.Question).ToArray() });
            rows.Parameters.Add(new NpgsqlParameter { Value = choices.Select(c => c.Choice).ToArray() });
            await rows.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return new PollAnswerResult(true, false, Poll: poll);
    }

    /// <summary>Each question's counts (every option listed, 0 when nobody chose it) and how many fans answered the poll.</summary>
    public async Task<(long Answers, List<QuestionCounts> Questions)> CountsAsync(PollRecord poll, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(poll);
        var counts = poll.Poll.Questions.Select(q => q.Options.ToDictionary(o => o.OptionId, _ => 0L, StringComparer.Ordinal)).ToList();
        var totals = new long[poll.Poll.Questions.Count];
        long answers;
        await using var conn = await ledger.DataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct); // one snapshot for all three
        await using (var cmd = new NpgsqlCommand("SELECT question, option_id, count(*) FROM poll_choices WHERE poll_id = $1 GROUP BY question, option_id", conn, tx))
        {
            cmd.Parameters.AddWithValue(poll.Poll.PollId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                if (r.GetInt32(0) < counts.Count)
                {
                    counts[r.GetInt32(0)][r.GetString(1)] = r.GetInt64(2);
                }
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT question, count(DISTINCT account_id) FROM poll_choices WHERE poll_id = $1 GROUP BY question", conn, tx))
        {
            cmd.Parameters.AddWithValue(poll.Poll.PollId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                if (r.GetInt32(0) < totals.Length)
                {
                    totals[r.GetInt32(0)] = r.GetInt64(1);
                }
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM poll_answers WHERE poll_id = $1", conn, tx))
        {
            cmd.Parameters.AddWithValue(poll.Poll.PollId);
            answers = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        await tx.CommitAsync(ct);
        return (answers, [.. counts.Select((c, i) => new QuestionCounts(i, totals[i], c))]);
    }

    /// <summary>
    /// The poll's snapshots for results when something changed since the last published one (the answer count or the
    /// state): one per question, all with the poll's next seq. Null when nothing changed. Recorded as published by
    /// <see cref="MarkPublishedAsync"/> once sent.
    /// </summary>
    public async Task<(List<PollUpdated> Events, long Answers, string State)?> SnapshotIfChangedAsync(PollRecord poll, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(poll);
        long publishedAnswers, seq;
        string? publishedState;
        await using (var cmd = ledger.DataSource.CreateCommand("SELECT published_answers, published_state, published_seq FROM polls WHERE poll_id = $1"))
        {
            cmd.Parameters.AddWithValue(poll.Poll.PollId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            (publishedAnswers, publishedState, seq) = (r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2));
        }

        var state = poll.State(now);
        var (answers, questions) = await CountsAsync(poll, ct);
        if (answers == publishedAnswers && state == publishedState)
        {
            return null;
        }

        var visible = poll.ResultsVisible(now);
        var events = questions.Select(q => new PollUpdated
        {
            EventId = EventIds.Stable(poll.Poll.PollId, "poll-updated", (seq + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), q.Question.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            OccurredAt = now,
            PollId = poll.Poll.PollId,
            Question = q.Question,
            ResultsId = Poll.ResultsId(poll.Poll.PollId, q.Question),
            Text = poll.Poll.Questions[q.Question].Text,
            Options = [.. poll.Poll.Questions[q.Question].Options.Select(o => o.OptionId)],
            State = state,
            Hidden = !visible,
            Total = visible ? q.Total : 0,
            Counts = visible ? q.Counts : new Dictionary<string, long>(),
            Seq = seq + 1,
        }).ToList();
        return (events, answers, state);
    }

    public async Task MarkPublishedAsync(string pollId, long seq, long answers, string state, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand("""
            UPDATE polls SET published_seq = greatest(published_seq, $2), published_answers = $3, published_state = $4 WHERE poll_id = $1
            """);
        cmd.Parameters.AddWithValue(pollId);
        cmd.Parameters.AddWithValue(seq);
        cmd.Parameters.AddWithValue(answers);
        cmd.Parameters.AddWithValue(state);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Polls to look at for publishing: live now, or closed within <paramref name="after"/> (their final counts).</summary>
    public async Task<List<PollRecord>> LiveAsync(DateTimeOffset now, TimeSpan after, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand($"""
            SELECT {Columns} FROM polls WHERE closes_at > $1 OR published_state IS DISTINCT FROM 'closed' ORDER BY opens_at LIMIT 200
            """);
        cmd.Parameters.Add(Time(now - after));
        var list = new List<PollRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(Read(r));
        }

        return list;
    }

    /// <summary>For a fan's export: their poll answers.</summary>
    public async Task<List<object>> AnswersOfAsync(string accountId, CancellationToken ct)
    {
        await using var cmd = ledger.DataSource.CreateCommand("SELECT poll_id, answers, answered_at FROM poll_answers WHERE account_id = $1 ORDER BY answered_at");
        cmd.Parameters.AddWithValue(accountId);
        var list = new List<object>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new { pollId = r.GetString(0), answers = JsonDocument.Parse(r.GetString(1)).RootElement.Clone(), answeredAt = r.GetFieldValue<DateTimeOffset>(2) });
        }

        return list;
    }

    private static PollRecord Read(NpgsqlDataReader r)
    {
        var poll = new Poll(r.GetString(0), r.GetString(1), JsonSerializer.Deserialize<List<PollQuestion>>(r.GetString(2), FanVoteJson.Options)!, r.GetBoolean(3))
        {
            MinTier = r.IsDBNull(4) ? null : r.GetString(4),
        };
        return new PollRecord(poll, r.GetFieldValue<DateTimeOffset>(6), r.GetFieldValue<DateTimeOffset>(7), r.GetString(5));
    }

    private static NpgsqlParameter Time(DateTimeOffset at) => new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
