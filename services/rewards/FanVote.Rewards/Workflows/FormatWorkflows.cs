using Dapr.Workflow;
using FanVote.Rewards.Adapters;
using FanVote.Workflows.Calls;

namespace FanVote.Rewards.Workflows;

/// <summary>A trivia round's pace: when each question is scored (a second after its close), in order.</summary>
public sealed record TriviaPacing(string RoundId, IReadOnlyList<DateTimeOffset> ScoreAt);

/// <summary>A raffle's draw time.</summary>
public sealed record RaffleDrawing(string RaffleId, DateTimeOffset DrawAt);

/// <summary>
/// A trivia round as a Dapr workflow (instance id "trivia-{round}"), question by question: a durable timer until the
/// question's time to be scored, then the scoring activity; after the last one the same activity credits the round.
/// The times come from the round's definition (answers are taken and refused by the clock at the answer route, never
/// by the workflow), so a crash of rewards or its sidecar resumes the round where it was and nothing is done twice:
/// scoring a question and crediting a round are each one transaction that is done once.
/// </summary>
public sealed class TriviaRoundWorkflow : Workflow<TriviaPacing, bool>
{
    public override async Task<bool> RunAsync(WorkflowContext context, TriviaPacing input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var credited = false;
        for (var q = 0; q < input.ScoreAt.Count; q++)
        {
            if (input.ScoreAt[q] > context.Now())
            {
                context.SetCustomStatus(new { question = q, scoreAt = input.ScoreAt[q] });
                await context.CreateTimer(input.ScoreAt[q].UtcDateTime, CancellationToken.None);
            }

            credited = await context.CallUntilDoneAsync<bool>(nameof(ScoreTriviaActivity), input.RoundId, Retry(context));
        }

        context.SetCustomStatus(new { credited });
        return credited;
    }

    /// <summary>A failed step (the database away, the ledger busy, a clock behind the timer's) is tried again 2 s later.</summary>
    internal static Func<string, DateTimeOffset> Retry(WorkflowContext context) => why =>
    {
        context.SetCustomStatus(new { retrying = why });
        return context.Now().AddSeconds(2);
    };
}

/// <summary>
/// A raffle's draw as a Dapr workflow (instance id "raffle-{raffle}"): a durable timer until the draw time, then the draw
/// activity (once, under the ledger's lock; an operator's "draw now" before it leaves the activity nothing to do).
/// </summary>
public sealed class RaffleDrawWorkflow : Workflow<RaffleDrawing, bool>
{
    public override async Task<bool> RunAsync(WorkflowContext context, RaffleDrawing input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        if (input.DrawAt > context.Now())
        {
            context.SetCustomStatus(new { drawAt = input.DrawAt });
            await context.CreateTimer(input.DrawAt.UtcDateTime, CancellationToken.None);
        }

        var drawn = await context.CallUntilDoneAsync<bool>(nameof(DrawRaffleActivity), input.RaffleId, TriviaRoundWorkflow.Retry(context));
        context.SetCustomStatus(new { drawn });
        return drawn;
    }
}

/// <summary>Scores what is due in a round and credits it at its end; true once credited. Throws for an unknown round (retried: it is never deleted).</summary>
public sealed class ScoreTriviaActivity(PostgresTrivia trivia, TimeProvider time) : WorkflowActivity<string, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string input) =>
        await trivia.ScoreRoundAsync(input, time.GetUtcNow(), CancellationToken.None)
        ?? throw new InvalidOperationException($"no trivia round '{input}'");
}

/// <summary>Draws the raffle once its time has come (false: no such raffle); before it, throws to be tried again.</summary>
public sealed class DrawRaffleActivity(PostgresRaffles raffles, TimeProvider time, ILogger<DrawRaffleActivity> log) : WorkflowActivity<string, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string input)
    {
        var now = time.GetUtcNow();
        var raffle = await raffles.DrawAsync(input, now, early: false, CancellationToken.None);
        if (raffle is null)
        {
            return false;
        }

        if (raffle.DrawnAt is null)
        {
            throw new InvalidOperationException($"it is {now:O}, raffle '{input}' is drawn at {raffle.DrawAt:O}");
        }

        RewardsLog.RaffleDrawn(log, input, raffle.Winners?.Count ?? 0, raffle.TicketsTaken, "its draw time");
        return true;
    }
}

/// <summary>
/// Starts a format's workflow for a definition just stored (or stored before and sent again): at most one instance per
/// round or raffle, never a second over a finished one. A definition is stored before its workflow is started, so a
/// failure here leaves a stored definition that sending it again starts.
/// </summary>
public sealed class FormatSchedules(DaprWorkflowClient workflows)
{
    public static string TriviaInstance(string roundId) => "trivia-" + roundId;

    public static string RaffleInstance(string raffleId) => "raffle-" + raffleId;

    public Task TriviaAsync(Core.TriviaRound round, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(round);
        return StartAsync(nameof(TriviaRoundWorkflow), TriviaInstance(round.RoundId),
            new TriviaPacing(round.RoundId, [.. Enumerable.Range(0, round.Questions.Count).Select(round.ScoreAt)]), ct);
    }

    public Task RaffleAsync(string raffleId, DateTimeOffset drawAt, CancellationToken ct) =>
        StartAsync(nameof(RaffleDrawWorkflow), RaffleInstance(raffleId), new RaffleDrawing(raffleId, drawAt), ct);

    private async Task StartAsync(string workflow, string instance, object input, CancellationToken ct)
    {
        if ((await workflows.GetWorkflowStateAsync(instance, getInputsAndOutputs: false, ct)).Exists)
        {
            return;
        }

        try
        {
            await workflows.ScheduleNewWorkflowAsync(workflow, instance, input, startTime: null, ct);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.AlreadyExists)
        {
            // Started meanwhile by another instance of rewards: the same schedule.
        }
    }
}
