using System.Globalization;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace FanVote.Rewards;

/// <summary>
/// Polls. Operators (operator key): create one (`POST /v1/polls`: questions, single or multi choice, open and close
/// times, results hidden until the close or not), close it early (`POST /v1/polls/{id}/close`) and read its counts at
/// any time (`GET /v1/polls/{id}/report`).
/// Anyone: the poll and, when visible, its counts (`GET /v1/polls/{id}`); the live counts stream from results
/// (`GET :5081/v1/windows/poll_{id}_{question}/results/stream`). Signed-in fans who may vote: answer once
/// (`POST /v1/polls/{id}/answers`).
/// </summary>
public static class PollEndpoints
{
    public sealed record CreatePollRequest(string? PollId, string? Title, IReadOnlyList<PollQuestion>? Questions, DateTimeOffset? OpensAt, DateTimeOffset? ClosesAt, bool? HideResultsUntilClose, string? MinTier);

    public sealed record QuestionView(int Question, string Text, IReadOnlyList<PollOption> Options, int MaxChoices, string ResultsId, long? Total, IReadOnlyDictionary<string, long>? Counts);

    public sealed record PollView(string PollId, string Title, string State, DateTimeOffset OpensAt, DateTimeOffset ClosesAt, bool HideResultsUntilClose, string? MinTier, long? Answers, IReadOnlyList<QuestionView> Questions);

    public sealed record AnswerRequest(IReadOnlyList<PollAnswer>? Answers);

    public sealed record AnswerView(string PollId, IReadOnlyList<PollAnswer> Answers, bool Repeated);

    public static WebApplication MapPollEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var operators = app.MapGroup("/v1/polls").RequireOperator().WithTags("Polls (operators)");
        operators.MapPost("", CreateAsync).DefinesFormat()
            .WithSummary("Create a poll: questions (single or multi choice), open and close times, results hidden until the close or not")
            .WithDescription("The same definition again answers 200; another under the same id is 409.");
        operators.MapPost("/{pollId:id}/close", CloseAsync)
            .WithSummary("Close a poll now (before its close time): no more answers; hidden results are shown")
            .WithDescription("A poll that is closed already answers 200 as it is.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        operators.MapGet("/{pollId:id}/report", ReportAsync)
            .WithSummary("A poll's counts, even while they are hidden from fans")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/polls/{pollId:id}", GetAsync).AllowAnonymous().WithTags("Polls")
            .WithSummary("A poll: its questions, state and, unless hidden until the close, its counts")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/polls/{pollId:id}/answers", AnswerAsync).RequireFan(PurposeNames.NeededToVote, "Answering polls")
            .FanAction().WithTags("Polls")
            .WithSummary("Answer a poll, once: your choices for one or more of its questions")
            .WithDescription("The same answer again answers 200 and counts once; another answer from the same fan is 409.");
        return app;
    }

    private static PollView View(PollRecord p, DateTimeOffset now, (long Answers, List<QuestionCounts> Questions)? counts) =>
        new(p.Poll.PollId, p.Poll.Title, p.State(now), p.OpensAt, p.ClosesAt, p.Poll.HideResultsUntilClose, p.Poll.MinTier, counts?.Answers,
            [.. p.Poll.Questions.Select((q, i) => new QuestionView(i, q.Text, q.Options, q.MaxChoices, Poll.ResultsId(p.Poll.PollId, i), counts?.Questions[i].Total, counts?.Questions[i].Counts))]);

    private static async Task<Results<Created<PollView>, Ok<PollView>, ProblemHttpResult>> CreateAsync(
        CreatePollRequest body, HttpContext ctx, PostgresPolls polls, VipTiers tiers, TimeProvider time, ILogger<PostgresPolls> log, CancellationToken ct)
    {
        if (body.Questions is null || body.ClosesAt is null)
        {
            return Bad("Send questions (text, options with optionId and label, maxChoices) and closesAt.");
        }

        var poll = new Poll(body.PollId ?? "", body.Title ?? "", body.Questions, body.HideResultsUntilClose ?? false) { MinTier = body.MinTier };
        if (PollRules.Check(poll) is { } wrong)
        {
            return Bad(wrong + ".");
        }

        if (body.MinTier is not null && tiers.Named(body.MinTier) is null)
        {
            return Bad($"minTier must be one of the VIP tiers ({string.Join(", ", tiers.Tiers.Select(t => t.Name))}), or left out for a poll open to every fan.");
        }

        var now = time.GetUtcNow();
        var opensAt = EngagementRoutes.Ms(body.OpensAt ?? now);
        var closesAt = EngagementRoutes.Ms(body.ClosesAt.Value);
        if (closesAt <= opensAt)
        {
            return Bad("closesAt must be after opensAt (or now, when opensAt is not given).");
        }

        var (created, record) = await polls.CreateAsync(poll, opensAt, closesAt, ctx.OperatorName(), now, ct);
        if (!created)
        {
            var same = record.Poll.Title == poll.Title && record.Poll.HideResultsUntilClose == poll.HideResultsUntilClose && record.Poll.MinTier == poll.MinTier
                && record.ClosesAt == closesAt && (body.OpensAt is null || record.OpensAt == opensAt)
                && System.Text.Json.JsonSerializer.Serialize(record.Poll.Questions, FanVoteJson.Options) == System.Text.Json.JsonSerializer.Serialize(poll.Questions, FanVoteJson.Options);
            return same
                ? TypedResults.Ok(View(record, now, null))
                : Problems.Of(StatusCodes.Status409Conflict, "Poll exists", $"A poll '{poll.PollId}' exists with another definition; a published poll never changes. Create one under a new id.");
        }

        var who = ctx.OperatorName();
        RewardsLog.PollCreated(log, who, poll.PollId, poll.Questions.Count, opensAt, closesAt);
        return TypedResults.Created($"/v1/polls/{poll.PollId}", View(record, now, null));
    }

    private static async Task<Results<Ok<PollView>, ProblemHttpResult>> GetAsync(string pollId, PostgresPolls polls, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (await polls.GetAsync(pollId, ct) is not { } p)
        {
            return Unknown(pollId);
        }

        return TypedResults.Ok(View(p, now, p.ResultsVisible(now) ? await polls.CountsAsync(p, ct) : null));
    }

    private static async Task<Results<Ok<PollView>, ProblemHttpResult>> CloseAsync(string pollId, HttpContext ctx, PostgresPolls polls, TimeProvider time, ILogger<PostgresPolls> log, CancellationToken ct)
    {
        var now = EngagementRoutes.Ms(time.GetUtcNow());
        if (await polls.CloseAsync(pollId, now, ct) is not var (poll, closedNow))
        {
            return Unknown(pollId);
        }

        if (closedNow)
        {
            var who = ctx.OperatorName();
            RewardsLog.PollClosed(log, who, pollId);
        }

        return TypedResults.Ok(View(poll, now, await polls.CountsAsync(poll, ct)));
    }

    private static async Task<Results<Ok<PollView>, ProblemHttpResult>> ReportAsync(string pollId, PostgresPolls polls, TimeProvider time, CancellationToken ct) =>
        await polls.GetAsync(pollId, ct) is { } p ? TypedResults.Ok(View(p, time.GetUtcNow(), await polls.CountsAsync(p, ct))) : Unknown(pollId);

    private static async Task<Results<Created<AnswerView>, Ok<AnswerView>, ProblemHttpResult>> AnswerAsync(
        string pollId, AnswerRequest body, HttpContext ctx, PostgresPolls polls, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (await polls.GetAsync(pollId, ct) is not { } poll)
        {
            return Unknown(pollId);
        }

        if (PollRules.CheckAnswer(poll.Poll, body.Answers) is { } wrong)
        {
            return Bad(wrong + ".");
        }

        var result = await polls.AnswerAsync(pollId, ctx.Fan().AccountId, body.Answers!, now, ct);
        if (result.Stored)
        {
            var view = new AnswerView(pollId, body.Answers!, result.Repeated);
            return result.Repeated ? TypedResults.Ok(view) : TypedResults.Created($"/v1/polls/{pollId}", view);
        }

        return result.Refusal switch
        {
            PollRefusal.UnknownPoll => Unknown(pollId),
            PollRefusal.NotOpenYet => Problems.Of(StatusCodes.Status409Conflict, "Poll not open yet",
                string.Create(CultureInfo.InvariantCulture, $"'{pollId}' opens at {result.Poll!.OpensAt:O}; nothing was recorded.")),
            PollRefusal.Closed => Problems.Of(StatusCodes.Status409Conflict, "Poll closed", $"'{pollId}' is closed; nothing was recorded."),
            PollRefusal.TierTooLow => Problems.Of(StatusCodes.Status403Forbidden, "VIP only",
                $"'{pollId}' is for {result.Poll!.Poll.MinTier} fans and above; you are {result.Standing!.Tier.Name}. See GET /v1/me/tier.",
                new Dictionary<string, object?> { ["tier"] = result.Standing.Tier.Name, ["needed"] = result.Poll.Poll.MinTier }),
            _ => Problems.Of(StatusCodes.Status409Conflict, "Already answered", $"You answered '{pollId}' before, differently: a fan answers a poll once, and the first answer counts."),
        };
    }

    private static ProblemHttpResult Bad(string detail) => EngagementRoutes.Bad(detail);

    private static ProblemHttpResult Unknown(string pollId) => Problems.Of(StatusCodes.Status404NotFound, "Unknown poll", $"There is no poll '{pollId}'.");
}

/// <summary>Sends each live poll's counts (or only its state while hidden) to results on `poll-updated`, whenever they changed.</summary>
public sealed class PollPublisher(PostgresPolls polls, DaprClient dapr, TimeProvider time, IOptions<RewardsOptions> options, ILogger<PollPublisher> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollPublishInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var now = time.GetUtcNow();
                foreach (var poll in await polls.LiveAsync(now, TimeSpan.FromMinutes(1), stoppingToken))
                {
                    if (await polls.SnapshotIfChangedAsync(poll, now, stoppingToken) is not { } snapshot)
                    {
                        continue;
                    }

                    foreach (var e in snapshot.Events)
                    {
                        await dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.PollUpdated, e, stoppingToken);
                    }

                    await polls.MarkPublishedAsync(poll.Poll.PollId, snapshot.Events[0].Seq, snapshot.Answers, snapshot.State, stoppingToken);
                }
            }
            catch (Exception e) when (e is System.Data.Common.DbException or Dapr.DaprException or TimeoutException or HttpRequestException)
            {
                RewardsLog.PollPublishFailed(log, e);
            }
        }
    }
}
