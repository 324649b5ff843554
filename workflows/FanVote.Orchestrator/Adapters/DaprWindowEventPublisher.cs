using System.Security.Cryptography;
using System.Text;
using Dapr.Client;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Adapters;

/// <summary>Publishes lifecycle facts to `window-events`.</summary>
public interface IWindowEventPublisher
{
    Task PublishAsync(WindowEffect effect, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>
/// Publishes through Dapr with the CloudEvent type set, so subscribers route on `event.type`. Event ids are
/// derived from (window, fact), so a step repeated after a crash republishes the same id and consumers can
/// drop the duplicate.
/// </summary>
public sealed class DaprWindowEventPublisher(DaprClient dapr) : IWindowEventPublisher
{
    public Task PublishAsync(WindowEffect effect, DateTimeOffset now, CancellationToken cancellationToken) => effect switch
    {
        PublishScheduled s => Send(EventTypes.WindowScheduled, new WindowScheduled
        {
            EventId = StableId(s.Definition.WindowId, EventTypes.WindowScheduled),
            OccurredAt = now,
            WindowId = s.Definition.WindowId,
            Title = s.Definition.Title,
            Candidates = s.Definition.Candidates,
            OpensAt = s.Definition.OpensAt,
            ClosesAt = s.Definition.ClosesAt,
            VotesPerAccount = s.Definition.VotesPerAccount,
        }, cancellationToken),
        PublishOpened o => Send(EventTypes.WindowOpened, new WindowOpened
        {
            EventId = StableId(o.Definition.WindowId, EventTypes.WindowOpened),
            OccurredAt = o.At,
            WindowId = o.Definition.WindowId,
            Candidates = o.Definition.Candidates,
            ClosesAt = o.Definition.ClosesAt,
        }, cancellationToken),
        PublishClosed c => Send(EventTypes.WindowClosed, new WindowClosed
        {
            EventId = StableId(c.WindowId, EventTypes.WindowClosed),
            OccurredAt = c.At,
            WindowId = c.WindowId,
            ClosedAt = c.At,
        }, cancellationToken),
        _ => Task.CompletedTask,
    };

    internal static Guid StableId(string windowId, string type)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{windowId}\n{type}"));
        return new Guid(hash.AsSpan(0, 16));
    }

    private Task Send<T>(string type, T data, CancellationToken ct) =>
        dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.WindowEvents, data, new Dictionary<string, string> { [EventTypes.MetadataKey] = type }, ct);
}
