using System.Text.Json;
using Dapr;
using Dapr.AspNetCore;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FanVote.ServiceDefaults;

/// <summary>What one service did for an erasure, in words a fan can read: what is gone, and what stays and why.</summary>
public sealed record ErasureOutcome(IReadOnlyList<string> Erased, IReadOnlyList<string> Kept);

/// <summary>
/// What one service holds about a fan, by account id: a copy of it (a JSON object for the fan's export) and its
/// erasure. Both run again when a request is repeated (a lost answer): an erasure must change nothing the second time.
/// Plain code over the service's own stores; <see cref="FanDataRequests"/> is the Dapr side.
/// </summary>
public interface IFanDataHolder
{
    Task<JsonElement> ExportAsync(string accountId, CancellationToken cancellationToken);

    Task<ErasureOutcome> EraseAsync(string accountId, CancellationToken cancellationToken);
}

/// <summary>
/// `data-requests`, the same in every service that holds fans' data: a request that names this app is done by its
/// <see cref="IFanDataHolder"/> and answered on `data-reports` (event id stable per request, app and attempt). Only the
/// sidecar may call the route and only the orchestrator may publish the topic (pub/sub scopes); a request that cannot
/// be right (an unknown kind, an id no account or request has) is dropped (200, logged); a failure answers 500, so the
/// sidecar redelivers, and the workflow asks again anyway.
/// </summary>
public static class FanDataRequests
{
    public static WebApplication MapFanDataRequests(this WebApplication app, string service)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/" + Topics.DataRequests, async (DataRequested e, IFanDataHolder holder, DaprClient dapr, TimeProvider time, ILoggerFactory logs, CancellationToken ct) =>
        {
            if (!e.Services.Contains(service, StringComparer.Ordinal))
            {
                return TypedResults.Ok();
            }

            var log = logs.CreateLogger(typeof(FanDataRequests));
            if (Invalid(e) is { } reason)
            {
                ServiceLog.DataRequestRefused(log, Ids.IsValid(e.RequestId) ? e.RequestId : "(invalid id)", reason);
                return TypedResults.Ok();
            }

            var report = new DataReported
            {
                EventId = EventIds.Stable(e.RequestId, service, e.Kind, e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                OccurredAt = time.GetUtcNow(),
                RequestId = e.RequestId,
                Kind = e.Kind,
                Service = service,
            };
            if (e.Kind == DataRequestKinds.Export)
            {
                report = report with { Data = await holder.ExportAsync(e.AccountId, ct) };
            }
            else
            {
                var done = await holder.EraseAsync(e.AccountId, ct);
                report = report with { Erased = done.Erased, Kept = done.Kept };
            }

            await dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.DataReports, report, ct);
            ServiceLog.DataRequestAnswered(log, e.RequestId, e.Kind, e.Seq, service);
            return TypedResults.Ok();
        }).WithTopic(ComponentNames.VoteBus, Topics.DataRequests);
        return app;
    }

    /// <summary>Account ids are <c>g_</c>/<c>u_</c> and 24 hex digits (ingress makes no other); request ids are ids.</summary>
    public static bool IsAccountId(string? accountId) =>
        accountId is { Length: 26 } a && (a.StartsWith("g_", StringComparison.Ordinal) || a.StartsWith("u_", StringComparison.Ordinal))
        && Ids.IsLowerHex(a.AsSpan(2));

    private static string? Invalid(DataRequested e) =>
        !Ids.IsValid(e.RequestId) ? "the request id is not an id"
        : !DataRequestKinds.IsKnown(e.Kind) ? $"unknown kind '{e.Kind}'"
        : !IsAccountId(e.AccountId) ? "the account id is not one ingress makes"
        : null;
}
