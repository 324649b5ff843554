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
/// Raffles. Operators (operator key): create one (`POST /v1/raffles`: ticket cost, cap per fan, prizes, entry and draw
/// times; the answer carries the commitment to its server seed), draw it once entries are closed without waiting for
/// the draw time (`POST /v1/raffles/{id}/draw`), and see who won (`GET /v1/raffles/{id}/report`, with accounts).
/// Anyone: the raffle (`GET /v1/raffles/{id}`: once drawn the seed, the entry list's digest and the winners) and,
/// once entries close, the entry list (`GET /v1/raffles/{id}/entries`), from which `./fanvote raffle verify` recomputes
/// the draw. Signed-in fans who gave "rewards": take tickets (`POST /v1/raffles/{id}/entries`).
/// </summary>
public static class RaffleEndpoints
{
    public sealed record CreateRaffleRequest(
        string? RaffleId, string? Name, long? TicketCost, int? MaxTicketsPerFan, IReadOnlyList<RafflePrize>? Prizes, DateTimeOffset? OpensAt, DateTimeOffset? ClosesAt, DateTimeOffset? DrawAt,
        string? MinTier);

    public sealed record RaffleView(
        string RaffleId, string Name, long TicketCost, int MaxTicketsPerFan, IReadOnlyList<RafflePrize> Prizes, string State, DateTimeOffset OpensAt, DateTimeOffset ClosesAt,
        DateTimeOffset DrawAt, DateTimeOffset? DrawnAt, long TicketsTaken, string Commitment, string? ServerSeed, string? EntriesDigest, IReadOnlyList<RaffleWinner>? Winners, string Fairness,
        string? MinTier);

    public sealed record EntryRequest(string? EntryKey, int? Tickets);

    public sealed record EntryView(string RaffleId, string EntryKey, string Holder, long FirstTicket, long LastTicket, int Tickets, long Cost, long? BalanceAfter, bool Repeated);

    public sealed record EntriesView(string RaffleId, string State, long Count, IReadOnlyList<RaffleTicket> Tickets);

    public sealed record WinnerAccount(int Prize, string Label, long Points, long Ticket, string Holder, string AccountId);

    public sealed record RaffleReportView(string RaffleId, string State, long TicketsTaken, IReadOnlyList<WinnerAccount> Winners);

    public const string FairnessText =
        "holder = hex of the first 12 bytes of SHA-256(\"fanvote-raffle-holder-v1\\n\" + raffleId + \"\\n\" + accountId + \"\\n\"); entriesDigest = hex SHA-256(\"fanvote-raffle-entries-v1\\n\" + raffleId + \"\\n\" + " +
        "\"ticket holder\\n\" per ticket in order); pick k takes index r mod n of the n tickets still in the draw, r = the first 8 bytes, big-endian, of HMAC-SHA256(key = server seed, " +
        "\"fanvote-raffle-v1\\n\" + raffleId + \"\\n\" + entriesDigest + \"\\n\" + k + \"\\n\" + round + \"\\n\") for the first round whose r is below the largest multiple of n under 2^64; " +
        "the winner's tickets then leave the draw; prizes in order, each count times; commitment = hex SHA-256 of the server seed; check with ./fanvote raffle verify";

    public static WebApplication MapRaffleEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var operators = app.MapGroup("/v1/raffles").RequireOperator().WithTags("Raffles (operators)");
        operators.MapPost("", CreateAsync).DefinesScheduledFormat()
            .WithSummary("Create a raffle: ticket cost (0 = free), tickets per fan, prizes, entry and draw times")
            .WithDescription("Answers the raffle with the commitment to its server seed. The same definition again answers 200; another under the same id is 409.");
        operators.MapPost("/{raffleId:id}/draw", DrawAsync)
            .WithSummary("Draw now (entries must be closed), without waiting for the draw time")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        operators.MapGet("/{raffleId:id}/report", ReportAsync)
            .WithSummary("Tickets taken, and each winner with their account (to hand over prizes outside the ledger)")
            .ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGet("/v1/raffles/{raffleId:id}", GetAsync).AllowAnonymous().WithTags("Raffles")
            .WithSummary("A raffle as published: cost, cap, prizes, times, the commitment; once drawn the seed, the entry list's digest and the winners")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/raffles/{raffleId:id}/entries", EntriesAsync).AllowAnonymous().WithTags("Raffles")
            .WithSummary("The entry list once entries are closed: every ticket in order with its holder's per-raffle pseudonym")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        app.MapPost("/v1/raffles/{raffleId:id}/entries", EnterAsync).RequireFan(Purposes.Rewards, "Entering raffles")
            .FanAction().ProducesProblem(StatusCodes.Status503ServiceUnavailable).WithTags("Raffles")
            .WithSummary("Take tickets: paid raffles debit ticketCost × tickets from your points in the same transaction")
            .WithDescription("entryKey (8-64 letters, digits, '-' or '_', new for each entry) makes a retry the same entry: it answers 200 with the same tickets and spends nothing. tickets: 1 or more, at most the raffle's cap in all.");
        return app;
    }

    public static RaffleView View(RaffleRecord r, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new RaffleView(r.Raffle.RaffleId, r.Raffle.Name, r.Raffle.TicketCost, r.Raffle.MaxTicketsPerFan, r.Raffle.Prizes, r.State(now), r.OpensAt, r.ClosesAt, r.DrawAt,
            r.DrawnAt, r.TicketsTaken, r.Commitment, r.RevealedSeed is { } s ? Convert.ToHexStringLower(s) : null, r.EntriesDigest, r.Winners, FairnessText, r.Raffle.MinTier);
    }

    private static async Task<Results<Created<RaffleView>, Ok<RaffleView>, ProblemHttpResult>> CreateAsync(
        CreateRaffleRequest body, HttpContext ctx, PostgresRaffles raffles, VipTiers tiers, Workflows.FormatSchedules schedules, TimeProvider time, ILogger<PostgresRaffles> log, CancellationToken ct)
    {
        if (body.Prizes is null || body.ClosesAt is null)
        {
            return Bad("Send prizes (label, count, points for each) and closesAt (when entries close); drawAt defaults to closesAt.");
        }

        var raffle = new Raffle(body.RaffleId ?? "", body.Name ?? "", body.TicketCost ?? 0, body.MaxTicketsPerFan ?? 1, body.Prizes) { MinTier = body.MinTier };
        if (RaffleRules.Check(raffle) is { } wrong)
        {
            return Bad(wrong + ".");
        }

        if (body.MinTier is not null && tiers.Named(body.MinTier) is null)
        {
            return Bad($"minTier must be one of the VIP tiers ({string.Join(", ", tiers.Tiers.Select(t => t.Name))}), or left out for a raffle open to every fan.");
        }

        // Kept to the millisecond (the database keeps microseconds), so the same definition sent again compares equal.
        var now = time.GetUtcNow();
        var opensAt = EngagementRoutes.Ms(body.OpensAt ?? now);
        var closesAt = EngagementRoutes.Ms(body.ClosesAt.Value);
        var drawAt = EngagementRoutes.Ms(body.DrawAt ?? closesAt);
        if (closesAt <= opensAt || drawAt < closesAt)
        {
            return Bad("closesAt must be after opensAt (or now), and drawAt at or after closesAt.");
        }

        var (created, record) = await raffles.CreateAsync(raffle, opensAt, closesAt, drawAt, ctx.OperatorName(), now, ct);
        if (!created)
        {
            var same = record.Raffle.Name == raffle.Name && record.Raffle.TicketCost == raffle.TicketCost && record.Raffle.MaxTicketsPerFan == raffle.MaxTicketsPerFan
                && record.Raffle.Prizes.SequenceEqual(raffle.Prizes) && record.Raffle.MinTier == raffle.MinTier && record.ClosesAt == closesAt && record.DrawAt == drawAt && (body.OpensAt is null || record.OpensAt == opensAt);
            if (!same)
            {
                return Problems.Of(StatusCodes.Status409Conflict, "Raffle exists", $"A raffle '{raffle.RaffleId}' exists with another definition; a published raffle never changes. Create one under a new id.");
            }
        }

        // The draw runs as a workflow at its time; sending the same definition again starts it if this failed.
        if (await EngagementRoutes.ScheduleAsync(() => schedules.RaffleAsync(raffle.RaffleId, record.DrawAt, ct), ctx, "raffle", raffle.RaffleId) is { } unscheduled)
        {
            return unscheduled;
        }

        if (!created)
        {
            return TypedResults.Ok(View(record, now));
        }

        var who = ctx.OperatorName();
        RewardsLog.RaffleCreated(log, who, raffle.RaffleId, raffle.TicketCost, raffle.Winners, record.Commitment);
        return TypedResults.Created($"/v1/raffles/{raffle.RaffleId}", View(record, now));
    }

    private static async Task<Results<Ok<RaffleView>, ProblemHttpResult>> GetAsync(string raffleId, PostgresRaffles raffles, TimeProvider time, CancellationToken ct) =>
        await raffles.GetAsync(raffleId, ct) is { } r ? TypedResults.Ok(View(r, time.GetUtcNow())) : Unknown(raffleId);

    private static async Task<Results<Ok<EntriesView>, ProblemHttpResult>> EntriesAsync(string raffleId, PostgresRaffles raffles, TimeProvider time, CancellationToken ct)
    {
        if (await raffles.GetAsync(raffleId, ct) is not { } r)
        {
            return Unknown(raffleId);
        }

        var state = r.State(time.GetUtcNow());
        if (state is "scheduled" or "open")
        {
            return Problems.Of(StatusCodes.Status409Conflict, "Entries still open",
                string.Create(CultureInfo.InvariantCulture, $"The entry list of '{raffleId}' is published when entries close, at {r.ClosesAt:O}."));
        }

        var tickets = await raffles.TicketsAsync(raffleId, ct);
        return TypedResults.Ok(new EntriesView(raffleId, state, tickets.Count, tickets));
    }

    private static async Task<Results<Ok<RaffleView>, ProblemHttpResult>> DrawAsync(string raffleId, HttpContext ctx, PostgresRaffles raffles, TimeProvider time, ILogger<PostgresRaffles> log, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (await raffles.GetAsync(raffleId, ct) is not { } before)
        {
            return Unknown(raffleId);
        }

        if (before.DrawnAt is null && now < before.ClosesAt)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "Entries still open",
                string.Create(CultureInfo.InvariantCulture, $"'{raffleId}' takes entries until {before.ClosesAt:O}; it can be drawn once they close."));
        }

        var drawn = (await raffles.DrawAsync(raffleId, now, early: true, ct))!;
        if (before.DrawnAt is null)
        {
            var who = ctx.OperatorName();
            RewardsLog.RaffleDrawn(log, raffleId, drawn.Winners?.Count ?? 0, drawn.TicketsTaken, who);
        }

        return TypedResults.Ok(View(drawn, now));
    }

    private static async Task<Results<Ok<RaffleReportView>, ProblemHttpResult>> ReportAsync(string raffleId, PostgresRaffles raffles, TimeProvider time, CancellationToken ct)
    {
        if (await raffles.GetAsync(raffleId, ct) is not { } r)
        {
            return Unknown(raffleId);
        }

        var accounts = await raffles.WinnerAccountsAsync(r, ct);
        return TypedResults.Ok(new RaffleReportView(raffleId, r.State(time.GetUtcNow()), r.TicketsTaken,
            [.. (r.Winners ?? []).Select(w => new WinnerAccount(w.Prize, w.Label, w.Points, w.Ticket, w.Holder, accounts.GetValueOrDefault(w.Holder, "")))]));
    }

    private static async Task<Results<Created<EntryView>, Ok<EntryView>, ProblemHttpResult>> EnterAsync(
        string raffleId, EntryRequest body, HttpContext ctx, PostgresRaffles raffles, TimeProvider time, CancellationToken ct)
    {
        if (!EngagementRoutes.IsRequestKey(body.EntryKey))
        {
            return Bad("entryKey must be 8-64 letters, digits, '-' or '_', new for each entry (a retry sends the same one).");
        }

        var tickets = body.Tickets ?? 1;
        if (tickets is < 1 or > RaffleRules.MaxTicketsPerFanLimit)
        {
            return Bad($"tickets must be between 1 and {RaffleRules.MaxTicketsPerFanLimit} (and within the raffle's cap per fan).");
        }

        var result = await raffles.EnterAsync(raffleId, ctx.Fan().AccountId, body.EntryKey, tickets, time.GetUtcNow(), ct);
        if (result.Outcome is { } o)
        {
            var view = new EntryView(o.RaffleId, o.EntryKey, o.Holder, o.FirstTicket, o.FirstTicket + o.Tickets - 1, o.Tickets, o.Cost, o.BalanceAfter, o.Repeated);
            return o.Repeated ? TypedResults.Ok(view) : TypedResults.Created($"/v1/raffles/{raffleId}", view);
        }

        var raffle = result.Raffle;
        return result.Refusal switch
        {
            EntryRefusal.UnknownRaffle => Unknown(raffleId),
            EntryRefusal.NotOpenYet => Problems.Of(StatusCodes.Status409Conflict, "Raffle not open yet",
                string.Create(CultureInfo.InvariantCulture, $"'{raffleId}' takes entries from {raffle!.OpensAt:O}; nothing was spent.")),
            EntryRefusal.Closed => Problems.Of(StatusCodes.Status409Conflict, "Entries closed", $"'{raffleId}' takes no more entries; nothing was spent."),
            EntryRefusal.OverCap => Problems.Of(StatusCodes.Status409Conflict, "Ticket cap",
                string.Create(CultureInfo.InvariantCulture,
                    $"You may hold {raffle!.Raffle.MaxTicketsPerFan + result.Standing!.Tier.ExtraTickets} tickets of '{raffleId}' ({raffle.Raffle.MaxTicketsPerFan} + {result.Standing.Tier.ExtraTickets} as {result.Standing.Tier.Name}); you hold {result.Held} and asked for {tickets}. Nothing was spent."),
                new Dictionary<string, object?> { ["held"] = result.Held, ["cap"] = raffle.Raffle.MaxTicketsPerFan + result.Standing.Tier.ExtraTickets }),
            EntryRefusal.TierTooLow => Problems.Of(StatusCodes.Status403Forbidden, "VIP only",
                string.Create(CultureInfo.InvariantCulture,
                    $"'{raffleId}' is for {raffle!.Raffle.MinTier} fans and above; you are {result.Standing!.Tier.Name} ({result.Standing.Earned} points earned). See GET /v1/me/tier. Nothing was spent."),
                new Dictionary<string, object?> { ["tier"] = result.Standing.Tier.Name, ["needed"] = raffle.Raffle.MinTier }),
            EntryRefusal.NotEnoughPoints => Problems.Of(StatusCodes.Status409Conflict, "Not enough points",
                string.Create(CultureInfo.InvariantCulture, $"{tickets} tickets of '{raffleId}' cost {raffle!.Raffle.TicketCost * tickets} points and you hold {result.Balance}; nothing was spent."),
                new Dictionary<string, object?> { ["balance"] = result.Balance, ["cost"] = raffle.Raffle.TicketCost * tickets }),
            _ => Problems.Of(StatusCodes.Status409Conflict, "Entry key reused",
                "You entered with this entryKey before, for another number of tickets: an entry key names one entry. Send a new entryKey; nothing was spent."),
        };
    }

    private static ProblemHttpResult Bad(string detail) => EngagementRoutes.Bad(detail);

    private static ProblemHttpResult Unknown(string raffleId) => Problems.Of(StatusCodes.Status404NotFound, "Unknown raffle", $"There is no raffle '{raffleId}'.");

}
