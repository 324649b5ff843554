using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Testing;

/// <summary>A fan's data request as the orchestrator's data-rights workflow makes it, for a service's own tests.</summary>
public static class DataRequests
{
    /// <summary>
    /// Publishes a <see cref="DataRequested"/> naming <paramref name="service"/> through <paramref name="asOrchestrator"/>
    /// (a client of a sidecar with app id `orchestrator`: pub/sub scopes allow no other) and waits (2 minutes at most)
    /// for the service's answer on `data-reports`, read straight from the broker at <paramref name="busAddress"/>.
    /// </summary>
    public static async Task<DataReported> AskAsync(DaprClient asOrchestrator, string busAddress, string service, string kind, string accountId, long seq = 1)
    {
        ArgumentNullException.ThrowIfNull(asOrchestrator);
        var request = new DataRequested
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, RequestId = "test-" + Guid.NewGuid().ToString("N")[..12], Kind = kind,
            AccountId = accountId, Services = [service], Seq = seq,
        };
        await asOrchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.DataRequests, request);
        DataReported? report = null;
        await Eventually.UntilAsync(
            async () => (report = (await StreamEvents.DataAsync<DataReported>(busAddress, Topics.DataReports)).FirstOrDefault(r => r.RequestId == request.RequestId)) is not null,
            $"{service} answers {kind} request {request.RequestId} on {Topics.DataReports}", seconds: 120);
        return report!.Service == service && report.Kind == kind
            ? report
            : throw new InvalidOperationException($"the answer to {request.RequestId} came from {report.Service} for {report.Kind}, not from {service} for {kind}");
    }
}
