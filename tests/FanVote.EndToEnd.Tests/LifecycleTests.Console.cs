using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;

namespace FanVote.EndToEnd.Tests;

/// <summary>
/// The operator console (orchestrator, GET /console) in headless Chromium, used as an operator would on the lifecycle
/// rig: a wrong key is refused, the right one lets them in; they create a step-by-step window with the form, see it
/// listed and waiting, continue it open, watch the live counts and the queue depth as fans vote and the fraud trigger
/// when two votes are flagged, continue it step by step to Completed, and read its certified result (without the flagged
/// votes) and audit report. Screenshots go to a temp folder named in the output.
/// </summary>
public sealed partial class LifecycleTests
{
    [Fact]
    public async Task Console_OperatorCreatesAStepByStepWindow_WatchesLiveCounts_ContinuesItToTheCertifiedResult()
    {
        Assert.True(Chromium.Available, "Debian chromium is needed for this test (./fanvote test installs it)");
        var window = "console-" + Guid.NewGuid().ToString("N")[..6];
        var fans = new Fans(Rig.IngressHttp, window, ["aurora", "blaze"], accounts: 5, votesPerAccount: 1);
        var tokens = await fans.SignInAsync();
        var shots = Directory.CreateTempSubdirectory("fv-console-").FullName;
        output.WriteLine($"screenshots: {shots}");
        await using var page = await Chromium.OpenAsync($"{Rig.Orchestrator.BaseUrl}/console?results={Uri.EscapeDataString(Rig.Results.BaseUrl)}");

        // A wrong key: refused by the operator API, the page stays on its key form and says so.
        // The browser starts on about:blank: wait for the console's own document (its key form) before using it.
        await UntilAsync(page, "String(document.title === 'FanVote — operator console' && !!document.getElementById('key-save') && document.readyState === 'complete')", "true");
        await page.EvalAsync("(() => { document.getElementById('key').value = 'not-the-key'; document.getElementById('key-save').click(); return 'ok'; })()");
        await UntilAsync(page, "String(document.getElementById('key-error').textContent !== '')", "true");
        Assert.Contains("refused", await page.EvalAsync("document.getElementById('key-error').textContent"), StringComparison.Ordinal);
        Assert.Equal("true", await page.EvalAsync("String(document.getElementById('console').classList.contains('hidden'))"));
        await page.ScreenshotAsync(Path.Combine(shots, "1-wrong-key.png"));

        // The right key, then the create form.
        await page.EvalAsync($"(() => {{ document.getElementById('key').value = '{PipelineRig.OperatorKey}'; document.getElementById('key-save').click(); return 'ok'; }})()");
        await UntilAsync(page, "String(document.getElementById('console').classList.contains('hidden'))", "false");
        await page.EvalAsync($$"""
            (() => {
              const set = (id, v) => { document.getElementById(id).value = v; };
              set('new-id', '{{window}}'); set('new-title', 'Console round'); set('new-candidates', 'aurora, blaze');
              set('new-opens', '0'); set('new-duration', '0.75'); set('new-votes', '1');
              document.getElementById('new-step').checked = true;
              document.getElementById('create').click();
              return 'ok';
            })()
            """);
        await UntilAsync(page, "document.getElementById('create-result').textContent", $"Window {window} created.");
        await UntilAsync(page, $"String(!!document.querySelector('tr[data-window=\"{window}\"]'))", "true");
        await UntilAsync(page, "document.getElementById('d-phase').textContent + '|' + String(document.getElementById('d-continue').disabled)", "Scheduled|false");
        await page.ScreenshotAsync(Path.Combine(shots, "2-created-waiting.png"));

        // Continue: the window opens; fans vote; the live counts on the page follow.
        await ContinueOnPageAsync(page, "Scheduled");
        await UntilAsync(page, "document.getElementById('d-phase').textContent", "Open");
        await Eventually.UntilAsync(async () => await IngressKnowsAsync(window, tokens[0]), "ingress knows the window");
        await fans.VoteAsync(tokens, concurrency: 5);
        Assert.Equal(5, fans.Accepted.Count);
        await UntilAsync(page, "document.getElementById('d-total').textContent", "5");
        var aurora = fans.Accepted.Values.Count(c => c == "aurora");
        Assert.Equal($"aurora {aurora}|blaze {5 - aurora}",
            await page.EvalAsync("[...document.querySelectorAll('#d-counts tr')].map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent).join('|')"));
        // Queue depth and fraud triggers: every accepted vote reached the ledger, nothing in flight, nothing flagged.
        await UntilAsync(page, "['d-accepted', 'd-persisted', 'd-inflight', 'd-flagged'].map(id => document.getElementById(id).textContent).join('|')", "5|5|0|0");

        // The fraud service flags two of them (a device farm): the console shows the trigger, and the audit will leave them out.
        var flagged = fans.Accepted.Keys.Order().Take(2).ToList();
        await (await Rig.AsAsync(AppIds.Fraud)).PublishEventAsync(ComponentNames.VoteBus, Topics.VoteFlags, new VotesFlagged
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = window, VoteIds = flagged, SubjectKind = "device",
            Subject = "dev-console-farm", ReasonCodes = ["device-farm"], Score = 0.99, ModelVersion = "console-test",
        }, TestContext.Current.CancellationToken);
        await UntilAsync(page,
            "['d-flagged', 'd-flagged-subjects', 'd-flagged-recent'].map(id => document.getElementById(id).textContent).join('|') + '|' + [...document.querySelectorAll('#d-flag-reasons tr')].map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent).join(',')",
            "2|1|2|device-farm 2");
        await page.ScreenshotAsync(Path.Combine(shots, "3-open-live-counts.png"));

        // Step by step to the end: each time the window waits, the operator presses Continue.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        var seen = new List<string> { "Scheduled", "Open" };
        while (true)
        {
            var state = await page.EvalAsync("document.getElementById('d-phase').textContent + '|' + String(document.getElementById('d-continue').disabled)");
            var phase = state.Split('|')[0];
            if (seen[^1] != phase)
            {
                seen.Add(phase);
            }

            if (phase == "Completed")
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the window did not complete through the console; phases seen {string.Join(" → ", seen)}, now {state}");
            if (state.EndsWith("|false", StringComparison.Ordinal))
            {
                await ContinueOnPageAsync(page, phase);
            }

            await Task.Delay(300, TestContext.Current.CancellationToken);
        }

        Assert.Equal(["Scheduled", "Open", "Closed", "Drained", "Audited", "PaidOut", "Completed"], seen);
        await UntilAsync(page, "document.getElementById('d-certified-total')?.textContent", "Certified total 3");
        var report = await UntilAsync(page, "document.getElementById('d-audit-report')?.textContent.split('\\n')[0]", "accepted 5");
        Assert.Contains("excluded 2 {\"device-farm\":2}", await page.EvalAsync("document.getElementById('d-audit-report').textContent"), StringComparison.Ordinal);
        Assert.Contains("live total 5 (matches: true)", await page.EvalAsync("document.getElementById('d-audit-report').textContent"), StringComparison.Ordinal);
        Assert.Equal(7, int.Parse(await page.EvalAsync("document.querySelectorAll('#d-steps tr').length"), System.Globalization.CultureInfo.InvariantCulture));

        // The action log panel: this window's creation, each continue and the payout, with who did them (issue 16 item 3).
        var actions = $"[...document.querySelectorAll('#actions tr')].filter(r => r.cells[4].textContent === '{window}').map(r => r.cells[2].textContent + ' ' + r.cells[3].textContent + ' ' + r.cells[5].textContent)";
        await UntilAsync(page, $"String({actions}.some(a => a === 'service:rewards window.payout paid'))", "true");
        var logged = await page.EvalAsync($"{actions}.join('|')");
        Assert.Contains("operator window.create created", logged, StringComparison.Ordinal);
        Assert.Contains("operator window.continue continued", logged, StringComparison.Ordinal);
        await page.ScreenshotAsync(Path.Combine(shots, "4-certified-audit.png"));
        await page.EvalAsync("(() => { document.getElementById('actions').scrollIntoView(); return 'ok'; })()");
        await page.ScreenshotAsync(Path.Combine(shots, "5-action-log.png"));
        output.WriteLine($"{window}: {string.Join(" → ", seen)}; {report}");
    }

    /// <summary>Polls <paramref name="expression"/> (a string-valued JavaScript expression) until it is <paramref name="expected"/>; fails with what it last was.</summary>
    private static async Task<string> UntilAsync(Chromium page, string expression, string expected)
    {
        var last = await page.WaitForAsync(expression, expected, TimeSpan.FromSeconds(60));
        Assert.True(last == expected, $"waited 60 s for `{expression}` to be \"{expected}\"; it was \"{last}\"");
        return last;
    }

    /// <summary>Presses Continue (the window waits in <paramref name="phase"/>) and waits until the page says the go was taken.</summary>
    private static async Task ContinueOnPageAsync(Chromium page, string phase)
    {
        await page.EvalAsync("(() => { document.getElementById('d-continue-result').textContent = ''; document.getElementById('d-continue').click(); return 'ok'; })()");
        await UntilAsync(page, "String(document.getElementById('d-continue-result').textContent !== '')", "true");
        var said = await page.EvalAsync("document.getElementById('d-continue-result').textContent");
        Assert.True(said.StartsWith("continued", StringComparison.Ordinal), $"Continue in {phase} answered: {said}");
    }
}
