using System.Globalization;
using FanVote.Contracts;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FanVote.Rewards;

/// <summary>
/// Trivia. Operators (operator key): create a round (`POST /v1/trivia`: timed questions with their sealed answers).
/// Anyone: the round as far as it has gone (`GET /v1/trivia/{id}`: each question once it opens, its answer and salt once
/// it closes, every answer's commitment from the start) and the live leaderboard (`GET /v1/trivia/{id}/leaderboard`).
/// Signed-in fans who may vote: answer the open question (`POST /v1/trivia/{id}/answers`), once.
/// </summary>
public static class TriviaEndpoints
{
    public sealed record CreateRoundRequest(string? RoundId, string? Title, IReadOnlyList<TriviaQuestion>? Questions, DateTimeOffset? StartsAt, int? GapSeconds);

    public sealed record QuestionView(int Question, string State, DateTimeOffset OpensAt, DateTimeOffset ClosesAt, int Points, int SpeedBonus, string Commitment,
        string? Text, IReadOnlyList<PollOption>? Options, string? Correct, string? Salt);

    public sealed record RoundView(string RoundId, string Title, DateTimeOffset StartsAt, bool Credited, IReadOnlyList<QuestionView> Questions);

    public sealed record AnswerRequest(int? Question, string? Choice);

    public sealed record AnswerView(string RoundId, int Question, string Choice, DateTimeOffset AnsweredAt, bool Repeated);

    public sealed record LeaderboardView(string RoundId, int Scored, int Questions, long Answers, long AnswersScored, IReadOnlyList<LeaderboardLine> Lines);

    public static WebApplication MapTriviaEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/v1/trivia", CreateAsync).RequireOperator().DefinesScheduledFormat(128 * 1024).WithTags("Trivia (operators)")
            .WithSummary("Create a trivia round: timed questions with their correct answers (sealed until each closes), points and speed bonus")
            .WithDescription("The same definition again answers 200; another under the same id is 409.");
        app.MapGet("/v1/trivia/{roundId:id}", GetAsync).AllowAnonymous().WithTags("Trivia")
            .WithSummary("A round as far as it has gone: questions once open, answers once closed, every answer's commitment from the start")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/trivia/{roundId:id}/leaderboard", LeaderboardAsync).AllowAnonymous().WithTags("Trivia")
            .WithSummary("The live leaderboard: fans by points over the questions scored so far (per-round pseudonyms)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/trivia/{roundId:id}/answers", AnswerAsync).RequireFan(PurposeNames.NeededToVote, "Answering trivia")
            .FanAction().WithTags("Trivia")
            .WithSummary("Answer the open question, once: the sooner, the bigger the speed bonus");
        return app;
    }

    private static RoundView View(TriviaRecord r, DateTimeOffset now) => new(r.Round.RoundId, r.Round.Title, r.Round.StartsAt, r.CreditedAt is not null,
        [.. r.Round.Questions.Select((q, i) =>
        {
            var state = r.Round.State(i, now);
            var salt = TriviaSeal.QuestionSalt(r.Salt, i);
            return new QuestionView(i, state, r.Round.OpensAt(i), r.Round.ClosesAt(i), q.Points, q.SpeedBonus, TriviaSeal.Commitment(r.Round.RoundId, i, q.Correct, salt),
                state == "scheduled" ? null : q.Text, state == "scheduled" ? null : q.Options,
                state == "closed" ? q.Correct : null, state == "closed" ? Convert.ToHexStringLower(salt) : null);
        })]);

    private static async Task<Results<Created<RoundView>, Ok<RoundView>, ProblemHttpResult>> CreateAsync(
        CreateRoundRequest body, HttpContext ctx, PostgresTrivia trivia, Workflows.FormatSchedules schedules, TimeProvider time, ILogger<PostgresTrivia> log, CancellationToken ct)
    {
        if (body.Questions is null)
        {
            return Bad("Send questions (text, options with optionId and label, correct, seconds; points and speedBonus optional).");
        }

        var now = time.GetUtcNow();
        var round = new TriviaRound(body.RoundId ?? "", body.Title ?? "", body.Questions, EngagementRoutes.Ms(body.StartsAt ?? now), body.GapSeconds ?? 5);
        if (TriviaRules.Check(round) is { } wrong)
        {
            return Bad(wrong + ".");
        }

        var (created, record) = await trivia.CreateAsync(round, ctx.OperatorName(), now, ct);
        if (!created)
        {
            var same = record.Round.Title == round.Title && record.Round.GapSeconds == round.GapSeconds && (body.StartsAt is null || record.Round.StartsAt == round.StartsAt)
                && System.Text.Json.JsonSerializer.Serialize(record.Round.Questions, FanVoteJson.Options) == System.Text.Json.JsonSerializer.Serialize(round.Questions, FanVoteJson.Options);
            if (!same)
            {
                return Problems.Of(StatusCodes.Status409Conflict, "Round exists", $"A trivia round '{round.RoundId}' exists with another definition. Create one under a new id.");
            }
        }

        // The round runs as a workflow, question by question; sending the same definition again starts it if this failed.
        if (await EngagementRoutes.ScheduleAsync(() => schedules.TriviaAsync(record.Round, ct), ctx, "trivia round", round.RoundId) is { } unscheduled)
        {
            return unscheduled;
        }

        if (!created)
        {
            return TypedResults.Ok(View(record, now));
        }

        var who = ctx.OperatorName();
        RewardsLog.TriviaCreated(log, who, round.RoundId, round.Questions.Count, round.StartsAt);
        return TypedResults.Created($"/v1/trivia/{round.RoundId}", View(record, now));
    }

    private static async Task<Results<Ok<RoundView>, ProblemHttpResult>> GetAsync(string roundId, PostgresTrivia trivia, TimeProvider time, CancellationToken ct) =>
        await trivia.GetAsync(roundId, ct) is { } r ? TypedResults.Ok(View(r, time.GetUtcNow())) : Unknown(roundId);

    private static async Task<Results<Ok<LeaderboardView>, ProblemHttpResult>> LeaderboardAsync(string roundId, int? top, PostgresTrivia trivia, CancellationToken ct)
    {
        if (await trivia.GetAsync(roundId, ct) is not { } r)
        {
            return Unknown(roundId);
        }

        var lines = await trivia.LeaderboardAsync(roundId, Math.Clamp(top ?? 10, 1, 100), ct);
        var (answers, scored) = await trivia.AnswerCountsAsync(roundId, ct);
        return TypedResults.Ok(new LeaderboardView(roundId, r.Scored.Count, r.Round.Questions.Count, answers, scored, [.. lines.Select(l => l.Line)]));
    }

    private static async Task<Results<Created<AnswerView>, Ok<AnswerView>, ProblemHttpResult>> AnswerAsync(
        string roundId, AnswerRequest body, HttpContext ctx, PostgresTrivia trivia, TimeProvider time, CancellationToken ct)
    {
        if (body.Question is null || !Ids.IsValid(body.Choice))
        {
            return Bad("Send question (its number) and choice (one optionId of it).");
        }

        var q = body.Question.Value;
        if (await trivia.GetAsync(roundId, ct) is not { } round)
        {
            return Unknown(roundId);
        }

        if (q < 0 || q >= round.Round.Questions.Count)
        {
            return Problems.Of(StatusCodes.Status404NotFound, "Unknown question", $"'{roundId}' has no question {q}.");
        }

        if (round.Round.Questions[q].Options.All(o => o.OptionId != body.Choice))
        {
            return Bad($"question {q} has no option '{body.Choice}'.");
        }

        var result = await trivia.AnswerAsync(round, q, ctx.Fan().AccountId, body.Choice!, time.GetUtcNow(), ct);
        if (result.AnsweredAt is { } at)
        {
            var view = new AnswerView(roundId, q, body.Choice!, at, result.Repeated);
            return result.Repeated ? TypedResults.Ok(view) : TypedResults.Created($"/v1/trivia/{roundId}", view);
        }

        return result.Refusal switch
        {
            TriviaRefusal.NotOpenYet => Problems.Of(StatusCodes.Status409Conflict, "Question not open yet",
                string.Create(CultureInfo.InvariantCulture, $"Question {q} of '{roundId}' opens at {result.Round!.Round.OpensAt(q):O}; nothing was recorded.")),
            TriviaRefusal.Closed => Problems.Of(StatusCodes.Status409Conflict, "Too late",
                string.Create(CultureInfo.InvariantCulture, $"Question {q} of '{roundId}' closed at {result.Round!.Round.ClosesAt(q):O}; nothing was recorded.")),
            _ => Problems.Of(StatusCodes.Status409Conflict, "Already answered", $"You answered question {q} of '{roundId}' before, differently: the first answer counts."),
        };
    }

    private static ProblemHttpResult Bad(string detail) => EngagementRoutes.Bad(detail);

    private static ProblemHttpResult Unknown(string roundId) => Problems.Of(StatusCodes.Status404NotFound, "Unknown round", $"There is no trivia round '{roundId}'.");
}
