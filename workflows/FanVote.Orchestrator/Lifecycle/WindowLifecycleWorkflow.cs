using System.Globalization;
using Dapr.Workflow;
using FanVote.Workflows.Calls;
using FanVote.Contracts.Events;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Lifecycle;

/// <summary>
/// One window's lifecycle as a Dapr workflow (instance id = window id): Scheduled → Open → Closed → Drained → Audited →
/// PaidOut → Completed. The state is a local <see cref="WindowState"/> folded through the pure
/// <see cref="WindowLifecycle"/> functions with the workflow's clock; every change is published as the custom status
/// (<see cref="WindowStatus"/>, what the operator API shows). Durable timers wait for the window's times, the drain's
/// settle time, the flag grace and between polls; services' answers arrive as "report" events, the operator's go of a
/// step-by-step window as "continue". Effects run only in activities, which are idempotent; a failed activity is
/// retried forever with exponential backoff, each failure visible in the status.
/// Workflow code must stay deterministic: no clock, randomness or I/O here, only the context's APIs. Changing the order
/// of the calls below breaks the replay of windows in flight: deploy such changes between windows.
/// </summary>
public sealed class WindowLifecycleWorkflow : Workflow<WindowRun, WindowStatus>
{
    public const string ContinueEvent = "continue";
    public const string ReportEvent = "report";

    public override async Task<WindowStatus> RunAsync(WorkflowContext context, WindowRun input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var run = new Run(context, input.Timings);
        var d = input.Definition;

        // Whoever started this instance (the operator API, or anyone else holding the sidecar's API token), the
        // definition is checked here too: no window the operator API would refuse is ever announced.
        if (d.Validate(run.Now) is { Count: > 0 } errors)
        {
            throw new InvalidOperationException("invalid window definition: " + string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value[0]}")));
        }

        run.S = WindowLifecycle.Create(d, run.Now, input.StepByStep, auditNonce: "");
        run.Show();
        var nonce = await run.CallAsync<string>(nameof(NewAuditNonceActivity), d.WindowId);
        run.S = run.S with { AuditNonce = nonce };
        await run.CallAsync<bool>(nameof(AnnounceScheduledActivity), d);

        // Scheduled → Open
        await run.GateAsync();
        await run.UntilAsync(d.OpensAt, $"opens at {d.OpensAt:u}");
        await run.CallAsync<DateTimeOffset>(nameof(OpenWindowActivity), d);
        run.Advance(WindowPhase.Open, "opened");

        // Open → Closed
        await run.GateAsync();
        await run.UntilAsync(d.ClosesAt, $"closes at {d.ClosesAt:u}");
        await run.CallAsync<DateTimeOffset>(nameof(CloseWindowActivity), d.WindowId);
        run.Advance(WindowPhase.Closed, "closed");

        // Closed → Drained: ask for counts until the reports satisfy the drain rule.
        await run.GateAsync();
        var settled = d.ClosesAt + input.Timings.AcceptSettle;
        await run.UntilAsync(settled, $"letting in-flight votes land until {settled:u}");
        var drained = Drain.Decide(run.S.Reports, settled, run.Now);
        while (drained is null)
        {
            var n = run.S.Progress.Attempts + 1;
            await run.CallAsync<bool>(nameof(RequestCountsActivity), new CountsRequest(d.WindowId, n));
            var deadline = run.Now + input.Timings.Poll(n);
            run.Wait(Drain.Describe(run.S.Reports, settled), deadline);
            while (drained is null && await run.NextReportAsync(deadline) is { } report)
            {
                await run.RecordAsync(report);
                drained = Drain.Decide(run.S.Reports, settled, run.Now);
            }
        }

        run.S = run.S with { Drained = drained };
        run.Advance(WindowPhase.Drained, WindowLifecycle.Describe(drained));

        // Drained → Audited: after the flag grace, ask tally to audit until an answer passes the checks.
        await run.GateAsync();
        var flagsIn = drained.At + input.Timings.FlagGrace;
        await run.UntilAsync(flagsIn, $"waiting for late fraud flags until {flagsIn:u}");
        while (run.S.AuditReport is null)
        {
            var n = run.S.Progress.Attempts + 1;
            await run.CallAsync<bool>(nameof(RequestAuditActivity),
                new AuditRequest(d.WindowId, n, d.Candidates, drained.Accepted, drained.Unconfirmed ?? [], run.S.AuditNonce, d.ClosesAt));
            var deadline = run.Now + input.Timings.Poll(n);
            run.Wait($"audit requested from tally (attempt {n})", deadline);
            while (run.S.AuditReport is null && await run.NextReportAsync(deadline) is { } report)
            {
                await run.RecordAsync(report);
            }
        }

        var certified = run.S.AuditReport!;
        await run.CallAsync<bool>(nameof(AnnounceCertifiedActivity), certified);
        run.S = run.S with { Certified = certified };
        run.Advance(WindowPhase.Audited, Audited(certified));

        // Audited → PaidOut: ask rewards to pay until it reports the payout committed.
        await run.GateAsync();
        while (run.S.PaidReport is null)
        {
            var n = run.S.Progress.Attempts + 1;
            await run.CallAsync<bool>(nameof(RequestPayoutActivity), new PayoutRequest(d.WindowId, n, d.PayoutRules, certified));
            var deadline = run.Now + input.Timings.Poll(n);
            run.Wait($"payout requested from rewards (attempt {n})", deadline);
            while (run.S.PaidReport is null && await run.NextReportAsync(deadline) is { } report)
            {
                await run.RecordAsync(report);
            }
        }

        var r = run.S.PaidReport!;
        var paid = new PayoutOutcome(r.Accounts, r.Points, r.Entries, r.LedgerHeadSeq, r.LedgerHeadHash, run.Now);
        run.S = run.S with { Paid = paid };
        run.Advance(WindowPhase.PaidOut, Paid(paid));

        // PaidOut → Completed
        await run.GateAsync();
        await run.CallAsync<bool>(nameof(CompleteWindowActivity), new CompleteRequest(d.WindowId, certified.Digest));
        run.Advance(WindowPhase.Completed, "completed");
        return WindowStatus.From(run.S);
    }

    private static string Audited(CertifiedResult c) =>
        string.Create(CultureInfo.InvariantCulture, $"audited: {c.Total} counted, {c.Excluded} excluded, live tally {(c.LiveMatches ? "matches" : "DIFFERS")}; digest {c.Digest[..16]}…");

    private static string Paid(PayoutOutcome p) =>
        string.Create(CultureInfo.InvariantCulture, $"paid: {p.Points} points to {p.Accounts} accounts ({p.Entries} ledger entries, head #{p.LedgerHeadSeq})");

    /// <summary>One run's state and the deterministic helpers around the context.</summary>
    private sealed class Run(WorkflowContext ctx, LifecycleTimings timings)
    {
        private readonly ILogger _log = ctx.CreateReplaySafeLogger<WindowLifecycleWorkflow>();

        public WindowState S { get; set; } = null!;

        public DateTimeOffset Now => ctx.Now();

        public void Show() => ctx.SetCustomStatus(WindowStatus.From(S));

        /// <summary>The step out of the current phase is done: record it and show it.</summary>
        public void Advance(WindowPhase next, string outcome)
        {
            S = WindowLifecycle.Complete(S, next, outcome, Now, Now);
            OrchestratorLog.WindowStep(_log, S.Definition.WindowId, next, outcome);
            Show();
        }

        /// <summary>The step waits (for a time or for reports) until <paramref name="until"/>: show what for.</summary>
        public void Wait(string why, DateTimeOffset until)
        {
            S = WindowLifecycle.Wait(S, why, until, Now);
            Show();
        }

        /// <summary>A durable timer until <paramref name="at"/>, shown as what the step waits for; none when the time has come.</summary>
        public async Task UntilAsync(DateTimeOffset at, string why)
        {
            if (at > Now)
            {
                Wait(why, at);
                await ctx.CreateTimer(at.UtcDateTime, CancellationToken.None);
            }
        }

        /// <summary>Step-by-step windows: held until the operator's go for this phase (a go for another phase is ignored).</summary>
        public async Task GateAsync()
        {
            if (!S.Held)
            {
                return;
            }

            Show();
            var go = await ctx.WaitForExternalEventAsync<WindowGo>(ContinueEvent);
            while (go?.Phase != S.Phase)
            {
                go = await ctx.WaitForExternalEventAsync<WindowGo>(ContinueEvent);
            }

            S = WindowLifecycle.Release(S);
            Show();
        }

        /// <summary>Runs an activity until it succeeds: each failure is recorded (shown) and retried after the backoff.</summary>
        public Task<T> CallAsync<T>(string activity, object input) =>
            ctx.CallUntilDoneAsync<T>(activity, input, error =>
            {
                S = WindowLifecycle.Fail(S, error, Now, timings);
                OrchestratorLog.StepFailed(_log, S.Definition.WindowId, S.Phase, S.Progress.Failures, S.Progress.LastError ?? "");
                Show();
                return S.Progress.NextAttemptAt!.Value;
            });

        /// <summary>The next service report, or null once <paramref name="deadline"/> has passed without one.</summary>
        public Task<WindowReport?> NextReportAsync(DateTimeOffset deadline) => ctx.NextEventAsync<WindowReport>(ReportEvent, deadline);

        /// <summary>Folds a report into the state (a report that does not apply to the current step changes nothing).</summary>
        public async Task RecordAsync(WindowReport report)
        {
            var before = S;
            if (report.Accepted is { } accepted)
            {
                S = WindowLifecycle.Record(S, accepted, Now);
            }
            else if (report.Persisted is { } persisted)
            {
                S = WindowLifecycle.Record(S, persisted, Now);
            }
            else if (report.Paid is { } paid)
            {
                S = WindowLifecycle.Record(S, paid, Now);
            }
            else if (report.Audited is { } audited && S.Phase == WindowPhase.Drained && S.AuditReport is null)
            {
                S = await CallAsync<WindowState>(nameof(RecordAuditActivity), new AuditAnswer(S, audited));
            }

            if (!ReferenceEquals(before, S))
            {
                Show();
            }
        }
    }
}
