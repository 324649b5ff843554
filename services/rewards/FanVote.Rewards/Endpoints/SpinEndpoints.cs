using System.Globalization;
using FanVote.Rewards.Adapters;
using FanVote.Rewards.Core;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FanVote.Rewards;

/// <summary>
/// Spin-to-win. Operators (operator key): create a wheel (`POST /v1/wheels`: cost, odds table, open and close times),
/// close it (`POST /v1/wheels/{id}/close`, which reveals its server seed) and read what it took and paid
/// (`GET /v1/wheels/{id}/report`). Anyone: read a wheel before spinning (`GET /v1/wheels/{id}`: odds, expected payout
/// and house edge, the server seed's commitment, the seed itself once closed). Signed-in fans who gave "rewards": spin
/// (`POST /v1/wheels/{id}/spins` with their own spin key and client seed: the cost is debited, the prize credited, in
/// one ledger transaction; the same key again answers the same spin and spends nothing) and list their spins
/// (`GET /v1/me/spins`), which `./fanvote spin verify` recomputes from the revealed seed.
/// </summary>
public static class SpinEndpoints
{
    public sealed record CreateWheelRequest(string? WheelId, string? Name, long? Cost, IReadOnlyList<WheelSegment>? Segments, DateTimeOffset? OpensAt, DateTimeOffset? ClosesAt);

    public sealed record SegmentView(int Index, string Label, int Weight, long Prize, decimal Odds);

    /// <summary>A wheel as published: everything a fan needs before spinning, and to check every spin after the close.</summary>
    public sealed record WheelView(
        string WheelId, string Name, long Cost, IReadOnlyList<SegmentView> Segments, decimal ExpectedPayout, decimal HouseEdge, string State,
        DateTimeOffset OpensAt, DateTimeOffset? ClosesAt, DateTimeOffset? ClosedAt, string Commitment, string? ServerSeed, string Fairness);

    public sealed record SpinRequest(string? SpinKey, string? ClientSeed);

    public sealed record SpinView(string SpinId, string WheelId, string AccountId, string SpinKey, long Nonce, string ClientSeed, int Segment, string Label, long Prize, long Cost, long BalanceAfter, DateTimeOffset SpunAt, bool Repeated);

    public sealed record SpinsResponse(string AccountId, IReadOnlyList<SpinView> Spins);

    public sealed record WheelReportView(string WheelId, long Spins, long Fans, long PointsTaken, long PointsPaid, decimal ExpectedHouseEdge, decimal? RealisedHouseEdge, IReadOnlyList<long> SpinsPerSegment);

    public const string FairnessText =
        "outcome = the segment where roll falls (cumulative weights, in order); roll = r mod totalWeight for the first round (0, 1, ...) whose r = the first 8 bytes, big-endian, " +
        "of HMAC-SHA256(key = server seed, \"fanvote-spin-v1\\n\" + wheelId + \"\\n\" + accountId + \"\\n\" + clientSeed + \"\\n\" + nonce + \"\\n\" + round + \"\\n\") " +
        "is below the largest multiple of totalWeight under 2^64; commitment = hex SHA-256 of the server seed; check with ./fanvote spin verify";

    public const int MaxSpinsListed = 1000;

    public static WebApplication MapSpinEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var operators = app.MapGroup("/v1/wheels").RequireOperator().WithTags("Spin to win (operators)");
        operators.MapPost("", CreateAsync).DefinesFormat()
            .WithSummary("Create a spin-to-win wheel: cost, odds table, open and close times")
            .WithDescription("Answers the wheel as published, with its expected payout per spin, house edge and the commitment to its server seed. The same definition again answers 200; another under the same id is 409.");
        operators.MapPost("/{wheelId:id}/close", CloseAsync)
            .WithSummary("Close a wheel now and reveal its server seed")
            .ProducesProblem(StatusCodes.Status404NotFound);
        operators.MapGet("/{wheelId:id}/report", ReportAsync)
            .WithSummary("What a wheel took and paid: spins, fans, points in and out, realised against expected house edge")
            .ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGet("/v1/wheels/{wheelId:id}", GetAsync).AllowAnonymous().WithTags("Spin to win")
            .WithSummary("A wheel as published: cost, odds table, expected payout and house edge, the commitment to its server seed, the seed once closed")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/wheels/{wheelId:id}/spins", SpinAsync).RequireFan(Purposes.Rewards, "Spinning").FanAction().ProducesProblem(StatusCodes.Status503ServiceUnavailable).WithTags("Spin to win")
            .WithSummary("Spin: the cost is debited and the prize credited in one ledger transaction")
            .WithDescription("spinKey (8-64 letters, digits, '-' or '_', new for each spin) makes a retry or a replay the same spin: it answers 200 with the first outcome and spends nothing. clientSeed (1-64 printable characters) is yours: with the nonce it makes each outcome one the server could not choose.");
        app.MapGet("/v1/me/spins", SpinsAsync).RequireFan(Purposes.Rewards, "Your spins").WithTags("Spin to win")
            .WithSummary("The signed-in fan's spins, newest first, with what recomputing each needs")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    public static WheelView View(WheelRecord w, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(w);
        var odds = w.Wheel.Odds;
        return new WheelView(
            w.Wheel.WheelId, w.Wheel.Name, w.Wheel.Cost,
            [.. w.Wheel.Segments.Select((s, i) => new SegmentView(i, s.Label, s.Weight, s.Prize, Math.Round(odds[i], 6)))],
            Math.Round(w.Wheel.ExpectedPayout, 4), Math.Round(w.Wheel.HouseEdge, 6), w.State(now), w.OpensAt, w.ClosesAt, w.ClosedAt, w.Commitment,
            w.RevealedSeed is { } seed ? Convert.ToHexStringLower(seed) : null, FairnessText);
    }

    private static SpinView View(SpinOutcome s) =>
        new(s.SpinId, s.WheelId, s.AccountId, s.SpinKey, s.Nonce, s.ClientSeed, s.Segment, s.Label, s.Prize, s.Cost, s.BalanceAfter, s.SpunAt, s.Repeated);

    private static async Task<Results<Created<WheelView>, Ok<WheelView>, ProblemHttpResult>> CreateAsync(
        CreateWheelRequest body, HttpContext ctx, PostgresSpinWheels wheels, TimeProvider time, ILogger<PostgresSpinWheels> log, CancellationToken ct)
    {
        if (body.Cost is null || body.Segments is null)
        {
            return Bad("Send cost (points per spin) and segments (label, weight, prize for each).");
        }

        var wheel = new SpinWheel(body.WheelId ?? "", body.Name ?? "", body.Cost.Value, body.Segments);
        if (WheelRules.Check(wheel) is { } wrong)
        {
            return Bad(wrong + ".");
        }

        var now = time.GetUtcNow();
        var opensAt = EngagementRoutes.Ms(body.OpensAt ?? now);
        DateTimeOffset? closesAt = body.ClosesAt is { } c ? EngagementRoutes.Ms(c) : null;
        if (closesAt is { } closes && closes <= opensAt)
        {
            return Bad("closesAt must be after opensAt (or now, when opensAt is not given).");
        }

        var (created, record) = await wheels.CreateAsync(wheel, opensAt, closesAt, ctx.OperatorName(), now, ct);
        if (!created)
        {
            var same = record.Wheel.Name == wheel.Name && record.Wheel.Cost == wheel.Cost && record.Wheel.Segments.SequenceEqual(wheel.Segments)
                && (body.OpensAt is null || record.OpensAt == opensAt) && record.ClosesAt == closesAt;
            return same
                ? TypedResults.Ok(View(record, now))
                : Problems.Of(StatusCodes.Status409Conflict, "Wheel exists", $"A wheel '{wheel.WheelId}' exists with another definition; a published odds table never changes. Create a wheel under a new id.");
        }

        var who = ctx.OperatorName();
        RewardsLog.WheelCreated(log, who, wheel.WheelId, wheel.Cost, wheel.Segments.Count, record.Wheel.ExpectedPayout, record.Commitment);
        return TypedResults.Created($"/v1/wheels/{wheel.WheelId}", View(record, now));
    }

    private static async Task<Results<Ok<WheelView>, ProblemHttpResult>> GetAsync(string wheelId, PostgresSpinWheels wheels, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        return await wheels.GetAsync(wheelId, now, ct) is { } w ? TypedResults.Ok(View(w, now)) : Unknown(wheelId);
    }

    private static async Task<Results<Ok<WheelView>, ProblemHttpResult>> CloseAsync(string wheelId, HttpContext ctx, PostgresSpinWheels wheels, TimeProvider time, ILogger<PostgresSpinWheels> log, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var closed = await wheels.CloseAsync(wheelId, now, ct);
        if (closed is null)
        {
            return Unknown(wheelId);
        }

        var who = ctx.OperatorName();
        RewardsLog.WheelClosed(log, who, wheelId);
        return TypedResults.Ok(View(closed, now));
    }

    private static async Task<Results<Ok<WheelReportView>, ProblemHttpResult>> ReportAsync(string wheelId, PostgresSpinWheels wheels, TimeProvider time, CancellationToken ct)
    {
        if (await wheels.GetAsync(wheelId, time.GetUtcNow(), ct) is not { } w)
        {
            return Unknown(wheelId);
        }

        var r = await wheels.ReportAsync(w, ct);
        return TypedResults.Ok(new WheelReportView(wheelId, r.Spins, r.Fans, r.PointsTaken, r.PointsPaid, Math.Round(w.Wheel.HouseEdge, 6),
            r.PointsTaken > 0 ? Math.Round((decimal)(r.PointsTaken - r.PointsPaid) / r.PointsTaken, 6) : null, r.SpinsPerSegment));
    }

    private static async Task<Results<Created<SpinView>, Ok<SpinView>, ProblemHttpResult>> SpinAsync(
        string wheelId, SpinRequest body, HttpContext ctx, PostgresSpinWheels wheels, TimeProvider time, RewardsMetrics metrics, CancellationToken ct)
    {
        if (!EngagementRoutes.IsRequestKey(body.SpinKey))
        {
            return Bad("spinKey must be 8-64 letters, digits, '-' or '_', new for each spin (a retry sends the same one).");
        }

        if (!ProvablyFair.IsClientSeed(body.ClientSeed))
        {
            return Bad($"clientSeed must be 1-{ProvablyFair.MaxClientSeed} printable ASCII characters without spaces: pick your own, it makes the outcome one the server could not choose.");
        }

        var fan = ctx.Fan();
        var result = await wheels.SpinAsync(wheelId, fan.AccountId, body.SpinKey, body.ClientSeed!, time.GetUtcNow(), ct);
        if (result.Outcome is { } outcome)
        {
            if (outcome.Repeated)
            {
                return TypedResults.Ok(View(outcome));
            }

            metrics.Spun(outcome.Cost, outcome.Prize);
            return TypedResults.Created($"/v1/me/spins?wheel={wheelId}", View(outcome));
        }

        metrics.SpinRefused(result.Refusal!.Value);
        return result.Refusal switch
        {
            SpinRefusal.UnknownWheel => Unknown(wheelId),
            SpinRefusal.NotOpenYet => Problems.Of(StatusCodes.Status409Conflict, "Wheel not open yet",
                string.Create(CultureInfo.InvariantCulture, $"Wheel '{wheelId}' opens at {result.Wheel!.OpensAt:O}; nothing was spent.")),
            SpinRefusal.Closed => Problems.Of(StatusCodes.Status409Conflict, "Wheel closed", $"Wheel '{wheelId}' is closed; nothing was spent. Its server seed is published at GET /v1/wheels/{wheelId}."),
            SpinRefusal.NotEnoughPoints => Problems.Of(StatusCodes.Status409Conflict, "Not enough points",
                string.Create(CultureInfo.InvariantCulture, $"A spin of '{wheelId}' costs {result.Wheel!.Wheel.Cost} points and you hold {result.Balance}; nothing was spent."),
                new Dictionary<string, object?> { ["balance"] = result.Balance, ["cost"] = result.Wheel.Wheel.Cost }),
            _ => Problems.Of(StatusCodes.Status409Conflict, "Spin key reused",
                "You spun with this spinKey before, with another clientSeed: a spin key names one spin. Send a new spinKey for a new spin; nothing was spent."),
        };
    }

    private static async Task<Results<Ok<SpinsResponse>, ProblemHttpResult>> SpinsAsync(HttpContext ctx, string? wheel, int? limit, PostgresSpinWheels wheels, CancellationToken ct)
    {
        if (limit is < 1 or > MaxSpinsListed)
        {
            return Bad($"limit must be between 1 and {MaxSpinsListed}.");
        }

        if (wheel is not null && !FanVote.Contracts.Ids.IsValid(wheel))
        {
            return Bad("wheel must be a wheel id.");
        }

        var fan = ctx.Fan();
        var spins = await wheels.SpinsAsync(fan.AccountId, wheel, limit ?? 100, ct);
        return TypedResults.Ok(new SpinsResponse(fan.AccountId, [.. spins.Select(View)]));
    }

    private static ProblemHttpResult Bad(string detail) => EngagementRoutes.Bad(detail);

    private static ProblemHttpResult Unknown(string wheelId) => Problems.Of(StatusCodes.Status404NotFound, "Unknown wheel", $"There is no spin wheel '{wheelId}'.");


}
