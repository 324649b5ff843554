using Dapr.Workflow;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults.Auth;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Lifecycle;

// The window workflow's activities: each does one effect through the lifecycle's ports (IWindowAnnouncements,
// IWindowRequests) and may run more than once (at least once, after a crash or a lost answer). They are idempotent:
// the ports derive event ids from (window, fact) or (window, request, seq), so a repeat publishes the very same event.

/// <summary>The window's audit nonce, made once (its result is kept in the workflow's history, so replays see the same one).</summary>
public sealed class NewAuditNonceActivity : WorkflowActivity<string, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, string input) => Task.FromResult(WindowLifecycle.NewAuditNonce());
}

/// <summary>WindowScheduled: ingress learns the window (its candidates, quota and times) before it opens.</summary>
public sealed class AnnounceScheduledActivity(IWindowAnnouncements announcements, TimeProvider time) : WorkflowActivity<WindowDefinition, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, WindowDefinition input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await announcements.ScheduledAsync(input, time.GetUtcNow(), CancellationToken.None);
        return true;
    }
}

/// <summary>WindowOpened, at the window's time (a timer that fires early, clock skew between hosts, fails and is retried).</summary>
public sealed class OpenWindowActivity(IWindowAnnouncements announcements, TimeProvider time) : WorkflowActivity<WindowDefinition, DateTimeOffset>
{
    public override async Task<DateTimeOffset> RunAsync(WorkflowActivityContext context, WindowDefinition input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = time.GetUtcNow();
        if (now < input.OpensAt)
        {
            throw new InvalidOperationException($"it is {now:O}, the window opens at {input.OpensAt:O}");
        }

        await announcements.OpenedAsync(input, now, CancellationToken.None);
        return now;
    }
}

/// <summary>WindowClosed (ingress refuses new votes by its own clock anyway).</summary>
public sealed class CloseWindowActivity(IWindowAnnouncements announcements, TimeProvider time) : WorkflowActivity<string, DateTimeOffset>
{
    public override async Task<DateTimeOffset> RunAsync(WorkflowActivityContext context, string input)
    {
        var now = time.GetUtcNow();
        await announcements.ClosedAsync(input, now, CancellationToken.None);
        return now;
    }
}

/// <summary>Asks ingress and tally for their counts (answers come back as "report" events).</summary>
public sealed class RequestCountsActivity(IWindowRequests requests, TimeProvider time) : WorkflowActivity<CountsRequest, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, CountsRequest input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await requests.CountsAsync(input.WindowId, input.Seq, time.GetUtcNow(), CancellationToken.None);
        return true;
    }
}

/// <summary>Asks tally to recount without the flagged votes and certify (the answer comes back as a "report" event).</summary>
public sealed class RequestAuditActivity(IWindowRequests requests, TimeProvider time) : WorkflowActivity<AuditRequest, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, AuditRequest input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await requests.AuditAsync(input, time.GetUtcNow(), CancellationToken.None);
        return true;
    }
}

/// <summary>
/// Records tally's audit answer with <see cref="WindowLifecycle"/>.Record: kept only if the auditor signed it (the key is
/// this host's configuration, hence an activity), it answers this window's nonce and its figures add up.
/// </summary>
public sealed class RecordAuditActivity(AuditorKey auditor, TimeProvider time) : WorkflowActivity<AuditAnswer, WindowState>
{
    public override Task<WindowState> RunAsync(WorkflowActivityContext context, AuditAnswer input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Task.FromResult(WindowLifecycle.Record(input.State, input.Report, time.GetUtcNow(), auditor.Key));
    }
}

/// <summary>WindowCertified with the accepted audit.</summary>
public sealed class AnnounceCertifiedActivity(IWindowAnnouncements announcements, TimeProvider time) : WorkflowActivity<CertifiedResult, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, CertifiedResult input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await announcements.CertifiedAsync(input, time.GetUtcNow(), CancellationToken.None);
        return true;
    }
}

/// <summary>Asks rewards to pay the certified voters (rewards credits once per (window, account, reason); its report comes back as a "report" event).</summary>
public sealed class RequestPayoutActivity(IWindowRequests requests, TimeProvider time) : WorkflowActivity<PayoutRequest, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, PayoutRequest input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await requests.PayoutAsync(input.WindowId, input.Seq, input.Rules, input.Certified, time.GetUtcNow(), CancellationToken.None);
        return true;
    }
}

/// <summary>WindowCompleted: certified and paid, nothing left to do.</summary>
public sealed class CompleteWindowActivity(IWindowAnnouncements announcements, TimeProvider time) : WorkflowActivity<CompleteRequest, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, CompleteRequest input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await announcements.CompletedAsync(input.WindowId, input.Digest, time.GetUtcNow(), CancellationToken.None);
        return true;
    }
}
