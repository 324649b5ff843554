using FanVote.Contracts.Events;

namespace FanVote.Workflows;

public sealed record AuditWindowInput(WindowDefinition Definition, DrainOutcome Drained, int Attempt, CertifiedResult? Report, string Nonce);

/// <summary>
/// The audit: after the flag grace (fraud flags still in flight), asks tally — where the ledger is — to recount
/// without the flagged votes and certify. Tally's answer is checked when it is recorded (digest, figures, the
/// drain's numbers, the auditor's signature, the request's nonce); once there, this publishes WindowCertified
/// (idempotent) and the window is Audited.
/// </summary>
public sealed class AuditWindowActivity(IWindowRequests requests, IWindowAnnouncements announcements, LifecycleTimings timings, TimeProvider time)
{
    public async Task<ActivityResult<CertifiedResult>> RunAsync(AuditWindowInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = time.GetUtcNow();
        var flagsIn = input.Drained.At + timings.FlagGrace;
        if (now < flagsIn)
        {
            return ActivityResult.WaitUntil<CertifiedResult>($"waiting for late fraud flags until {flagsIn:u}", flagsIn);
        }

        if (input.Report is { } report)
        {
            await announcements.CertifiedAsync(report, now, cancellationToken);
            return ActivityResult.Finished(report);
        }

        await requests.AuditAsync(new AuditRequest(input.Definition.WindowId, input.Attempt, input.Definition.Candidates, input.Drained.Accepted,
            input.Drained.Unconfirmed ?? [], input.Nonce, input.Definition.ClosesAt), now, cancellationToken);
        return ActivityResult.WaitUntil<CertifiedResult>($"audit requested from tally (attempt {input.Attempt})", now + timings.Poll(input.Attempt));
    }
}
