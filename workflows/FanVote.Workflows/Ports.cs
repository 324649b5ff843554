using FanVote.Contracts.Events;

namespace FanVote.Workflows;

/// <summary>
/// Lifecycle facts for everyone (the host publishes them on `window-events`). Each call must be idempotent: the
/// host derives event ids from (window, fact), so a step repeated after a crash sends the very same event.
/// </summary>
public interface IWindowAnnouncements
{
    Task ScheduledAsync(WindowDefinition definition, DateTimeOffset at, CancellationToken cancellationToken);

    Task OpenedAsync(WindowDefinition definition, DateTimeOffset at, CancellationToken cancellationToken);

    Task ClosedAsync(string windowId, DateTimeOffset at, CancellationToken cancellationToken);

    Task CertifiedAsync(CertifiedResult result, DateTimeOffset at, CancellationToken cancellationToken);

    Task CompletedAsync(string windowId, string digest, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>What the audit request says: the window, the attempt, the candidates, the drain's accepted count and the votes ingress sent unconfirmed, this window's nonce, its close.</summary>
public sealed record AuditRequest(string WindowId, long Seq, IReadOnlyList<string> Candidates, long Accepted, IReadOnlyList<Guid> Unconfirmed, string Nonce, DateTimeOffset ClosesAt);

/// <summary>
/// Requests to the services that hold the data (published on `window-requests` / `reward-requests`). Answers come
/// back as reports, recorded with <see cref="WindowLifecycle"/>.Record; a lost request is simply asked again.
/// </summary>
public interface IWindowRequests
{
    Task CountsAsync(string windowId, long seq, DateTimeOffset at, CancellationToken cancellationToken);

    Task AuditAsync(AuditRequest request, DateTimeOffset at, CancellationToken cancellationToken);

    Task PayoutAsync(string windowId, long seq, PayoutRules rules, CertifiedResult certified, DateTimeOffset at, CancellationToken cancellationToken);
}
