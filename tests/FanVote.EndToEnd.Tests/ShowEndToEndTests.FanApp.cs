using System.Net;
using System.Text.Json;
using FanVote.Testing;

namespace FanVote.EndToEnd.Tests;

/// <summary>
/// The fan web app (ingress, GET /app) in headless Chromium at a phone's size, on the show's running system, used as a
/// fan would: sign in as a guest, vote and see the live count move, answer a poll, a trivia question and take a raffle
/// ticket, be refused a spin without points, then see the trivia points and the raffle prize arrive and spin them; sign
/// out and in again with a one-time passcode (a wrong one refused first) and vote as that account.
/// Every number the page shows is checked against what the services answer the same fan. Screenshots go to a temp
/// folder named in the output. And the trust rules of the browser boundary: only the app's origin may call rewards
/// from a browser, never with the operator key; the page allows no script but its own.
/// </summary>
public sealed partial class ShowEndToEndTests
{
    private static async Task<string> PageUntilAsync(Chromium page, string expression, string expected, string what, int seconds = 120)
    {
        var seen = await page.WaitForAsync(expression, expected, TimeSpan.FromSeconds(seconds));
        Assert.True(seen == expected, $"within {seconds} s: {what} (the page shows '{seen}', expected '{expected}')");
        return seen;
    }

    private static Task<string> ClickAsync(Chromium page, string selector) =>
        page.EvalAsync($"(() => {{ const e = document.querySelector({JsonSerializer.Serialize(selector)}); e.scrollIntoView({{ block: 'center' }}); e.click(); return 'ok'; }})()");

    private static string Text(string selector) => $"(document.querySelector({JsonSerializer.Serialize(selector)}) || {{ textContent: '' }}).textContent";

    [Fact]
    public async Task FanApp_OnAPhone_SignInVoteAnswerEnterSpin_TheBalanceMovesAsTheLedgerSays()
    {
        Assert.True(Chromium.Available, "Debian chromium is needed for this test (./fanvote test installs it)");
        var tag = Guid.NewGuid().ToString("N")[..6];
        var (window, poll, quiz, raffle, wheel) = ($"app-{tag}", $"apppoll-{tag}", $"appquiz-{tag}", $"appraffle-{tag}", $"appwheel-{tag}");
        var rewards = Rig.Rewards!.BaseUrl;
        var now = DateTimeOffset.UtcNow;
        await Rig.CreateWindowAsync(window, Candidates, 3, now.AddSeconds(-1), now.AddMinutes(10));
        await CallAsync(HttpMethod.Post, $"{rewards}/v1/polls", new
        {
            pollId = poll, title = "Song of the night", closesAt = now.AddMinutes(10),
            questions = new[] { new { text = "Which song?", options = new[] { new { optionId = "s1", label = "Nova" }, new { optionId = "s2", label = "Ember" } } } },
        }, null, HttpStatusCode.Created);
        // One question, open long enough for a loaded machine; it closes, is scored and credited while the fan watches.
        await CallAsync(HttpMethod.Post, $"{rewards}/v1/trivia", new
        {
            roundId = quiz, title = "Quick quiz", startsAt = now.AddSeconds(3), gapSeconds = 1,
            questions = new[] { new { text = "Debut year?", correct = "y2019", seconds = 60, options = new[] { new { optionId = "y2018", label = "2018" }, new { optionId = "y2019", label = "2019" } } } },
        }, null, HttpStatusCode.Created);
        // One prize, one entrant: the fan wins it once the raffle is drawn.
        await CallAsync(HttpMethod.Post, $"{rewards}/v1/raffles", new
        {
            raffleId = raffle, name = "Signed poster", ticketCost = 0, maxTicketsPerFan = 1, closesAt = now.AddSeconds(50),
            prizes = new[] { new { label = "signed poster", count = 1, points = 25 } },
        }, null, HttpStatusCode.Created);
        await CallAsync(HttpMethod.Post, $"{rewards}/v1/wheels", new
        {
            wheelId = wheel, name = "Lucky wheel", cost = 10, segments = new[] { new { label = "nothing", weight = 1, prize = 0 }, new { label = "fifteen", weight = 1, prize = 15 } },
        }, null, HttpStatusCode.Created);

        var shots = Directory.CreateTempSubdirectory("fv-fan-app-").FullName;
        output.WriteLine($"screenshots: {shots}");
        await using var page = await Chromium.OpenPhoneAsync($"{Rig.Ingress.BaseUrl}/app?window={window}");

        // Sign in as a guest with the page's default choices (what voting needs, and rewards).
        await PageUntilAsync(page, "String(document.body && document.body.dataset.ready === 'true' && !!document.querySelector('#purposes input'))", "true", "the sign-in card with the terms");
        Assert.Equal("true", await page.EvalAsync("String(Array.from(document.querySelectorAll('#purposes input')).filter(i => i.checked).length >= 3)"));
        await page.ScreenshotAsync(Path.Combine(shots, "1-sign-in.png"));
        await ClickAsync(page, "#guest");
        await PageUntilAsync(page, "document.getElementById('balance').dataset.balance", "0", "signed in, the balance shows 0");
        var token = await page.EvalAsync("sessionStorage.getItem('fanvote-token')");
        Assert.False(string.IsNullOrEmpty(token), "the page keeps the fan's session token");

        // Vote, and see it counted live (results' SSE stream).
        await PageUntilAsync(page, $"String(!!document.querySelector('#candidates button[data-candidate=\"aurora\"]'))", "true", "the window's candidates");
        await ClickAsync(page, "#candidates button[data-candidate='aurora']");
        await PageUntilAsync(page, "String(document.getElementById('vote-result').textContent.startsWith('Vote for aurora stored'))", "true", "the vote is stored (202)");
        await PageUntilAsync(page, "document.querySelector('#bars .row[data-candidate=\"aurora\"] .count').dataset.count", "1", "the live count shows the vote");
        await page.ScreenshotAsync(Path.Combine(shots, "2-voted-live.png"));

        // The poll: answer it; the count beside the option follows.
        var pollCard = $"article[data-kind='poll'][data-id='{poll}']";
        await PageUntilAsync(page, $"String(!!document.querySelector(\"{pollCard} input[value='s2']\"))", "true", "the poll is listed");
        await page.EvalAsync($"(() => {{ document.querySelector(\"{pollCard} input[value='s2']\").checked = true; return 'ok'; }})()");
        await ClickAsync(page, $"{pollCard} .answer");
        await PageUntilAsync(page, Text($"{pollCard} .result"), "Your answer is in.", "the poll answer is stored");
        await PageUntilAsync(page, Text($"{pollCard} .count[data-option='s2']"), " — 1", "the poll's count shows the answer");
        await ClickAsync(page, $"{pollCard} .answer"); // disabled once answered: nothing happens
        Assert.Equal("true", await page.EvalAsync($"String(document.querySelector(\"{pollCard} .answer\").disabled)"));

        // Trivia: the question opens; answer it right.
        var quizCard = $"article[data-kind='trivia'][data-id='{quiz}']";
        await PageUntilAsync(page, $"String(!!document.querySelector(\"{quizCard} button[data-choice='y2019']\"))", "true", "the trivia question opens on the page");
        await ClickAsync(page, $"{quizCard} button[data-choice='y2019']");
        await PageUntilAsync(page, Text($"{quizCard} .result"), "Locked in: 2019.", "the trivia answer is stored");

        // The raffle: take a ticket.
        var raffleCard = $"article[data-kind='raffle'][data-id='{raffle}']";
        await PageUntilAsync(page, $"String(!!document.querySelector(\"{raffleCard} .enter\") && !document.querySelector(\"{raffleCard} .enter\").disabled)", "true", "the raffle is open");
        await ClickAsync(page, $"{raffleCard} .enter");
        await PageUntilAsync(page, Text($"{raffleCard} .result"), "You're in: ticket #1.", "the raffle ticket is taken");

        // A spin with no points is refused, and the page says why; the balance stays 0.
        var wheelCard = $"article[data-kind='wheel'][data-id='{wheel}']";
        await PageUntilAsync(page, $"String(!!document.querySelector(\"{wheelCard} .spin\") && !document.querySelector(\"{wheelCard} .spin\").disabled)", "true", "the wheel is listed");
        await ClickAsync(page, $"{wheelCard} .spin");
        await PageUntilAsync(page, $"String(document.querySelector(\"{wheelCard} .result\").classList.contains('bad') && document.querySelector(\"{wheelCard} .result\").textContent.length > 0)", "true", "the spin is refused");
        var refusal = await page.EvalAsync(Text($"{wheelCard} .result"));
        Assert.Contains("point", refusal, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("0", await page.EvalAsync("document.getElementById('balance').dataset.balance"));
        await page.ScreenshotAsync(Path.Combine(shots, "3-answered-refused-spin.png"));

        // The trivia question closes and is scored; the raffle is drawn: the points arrive on the page as the ledger has them.
        await PageUntilAsync(page, Text($"{quizCard} .result"), "You got it right!", "the trivia question closes, marked right", 180);
        await PageUntilAsync(page, Text($"{raffleCard} .result"), "You won: signed poster!", "the raffle is drawn and the fan won", 180);
        await PageUntilAsync(page, "String(['trivia', 'raffle-prize'].every(r => !!document.querySelector(`#statement li[data-reason='${r}']`)))", "true", "the statement shows the trivia points and the raffle prize", 180);
        var earned = await BalanceAsync(token);
        Assert.True(earned >= 125, $"100+ trivia points and the 25-point prize, the ledger says {earned}");
        await PageUntilAsync(page, "document.getElementById('balance').dataset.balance", earned.ToString(System.Globalization.CultureInfo.InvariantCulture), "the balance shows what the ledger holds");
        await page.ScreenshotAsync(Path.Combine(shots, "4-points-arrived.png"));

        // Spin: the balance moves by the cost and the prize, as the ledger says.
        await ClickAsync(page, $"{wheelCard} .spin");
        await PageUntilAsync(page, $"document.querySelector(\"{wheelCard} .result\").dataset.spins || ''", "1", "the spin is made");
        var spins = await CallAsync(HttpMethod.Get, $"{rewards}/v1/me/spins?wheel={wheel}", null, token, HttpStatusCode.OK);
        var spin = Assert.Single(spins.GetProperty("spins").EnumerateArray());
        var after = spin.GetProperty("balanceAfter").GetInt64();
        Assert.Equal(earned - 10 + spin.GetProperty("prize").GetInt64(), after);
        Assert.Equal(after, await BalanceAsync(token));
        await PageUntilAsync(page, "document.getElementById('balance').dataset.balance", after.ToString(System.Globalization.CultureInfo.InvariantCulture), "the balance after the spin");
        await page.ScreenshotAsync(Path.Combine(shots, "5-spun.png"));
        output.WriteLine($"trivia + prize {earned}, spin {spin.GetProperty("label").GetString()}, balance {after}");

        // Sign out, and in again with a one-time passcode: a wrong code is refused with the reason, the right one signs
        // in another account (an e-mail address is not the guest device), which starts at 0 and can vote.
        await ClickAsync(page, "#sign-out");
        await PageUntilAsync(page, "String(!document.getElementById('signin').classList.contains('hidden'))", "true", "signed out: the sign-in card");
        Assert.Equal("", await page.EvalAsync("sessionStorage.getItem('fanvote-token') || ''"));
        var email = $"fan-{tag}@example.com";
        await page.EvalAsync($"(() => {{ document.getElementById('otp-box').open = true; document.getElementById('contact').value = '{email}'; return 'ok'; }})()");
        await ClickAsync(page, "#otp-send");
        await PageUntilAsync(page, "String(!document.getElementById('otp-step').classList.contains('hidden'))", "true", "the passcode step");
        var code = await PasscodeAsync(email);
        var wrong = code == "000000" ? "111111" : "000000";
        await page.EvalAsync($"(() => {{ document.getElementById('otp-code').value = '{wrong}'; return 'ok'; }})()");
        await ClickAsync(page, "#otp-verify");
        await PageUntilAsync(page, Text("#signin-error"), "That passcode is not right. Check it and try again.", "a wrong passcode is refused with its reason");
        await page.EvalAsync($"(() => {{ document.getElementById('otp-code').value = '{code}'; return 'ok'; }})()");
        await page.ScreenshotAsync(Path.Combine(shots, "6-passcode.png"));
        await ClickAsync(page, "#otp-verify");
        await PageUntilAsync(page, "document.getElementById('balance').dataset.balance", "0", "signed in with the passcode, a new account at 0");
        var second = await page.EvalAsync("sessionStorage.getItem('fanvote-token')");
        Assert.NotEqual(Eventually.AccountOf(token), Eventually.AccountOf(second));
        // Nothing of the first fan's carries over in the tab: the poll the first fan answered is open to this one.
        await PageUntilAsync(page, $"String(!!document.querySelector(\"{pollCard} .answer\") && !document.querySelector(\"{pollCard} .answer\").disabled)", "true", "the poll can be answered by the second fan");
        await PageUntilAsync(page, $"String(!!document.querySelector('#candidates button[data-candidate=blaze]'))", "true", "the window's candidates");
        await ClickAsync(page, "#candidates button[data-candidate='blaze']");
        await PageUntilAsync(page, "String(document.getElementById('vote-result').textContent.startsWith('Vote for blaze stored'))", "true", "the passcode fan's vote is stored");
        await PageUntilAsync(page, "document.querySelector('#bars .row[data-candidate=blaze] .count').dataset.count", "1", "the live count shows the second fan's vote");
    }

    /// <summary>The last passcode ingress wrote for <paramref name="contact"/> to the rig's outbox (the stand-in for the SMS gateway).</summary>
    private async Task<string> PasscodeAsync(string contact)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var lines = File.Exists(Rig.OtpOutbox) ? await File.ReadAllLinesAsync(Rig.OtpOutbox, Ct) : [];
            if (lines.LastOrDefault(l => l.StartsWith(contact + " ", StringComparison.OrdinalIgnoreCase)) is { } line)
            {
                return line[(line.LastIndexOf(' ') + 1)..];
            }

            Assert.True(DateTime.UtcNow < deadline, $"within 60 s: a passcode for {contact} in {Rig.OtpOutbox} (it holds {lines.Length} lines)");
            await Task.Delay(200, Ct);
        }
    }

    private async Task<long> BalanceAsync(string token) =>
        (await CallAsync(HttpMethod.Get, $"{Rig.Rewards!.BaseUrl}/v1/me/balance", null, token, HttpStatusCode.OK)).GetProperty("balance").GetInt64();

    [Fact]
    public async Task FanApp_Browsers_OnlyTheAppsOriginMayCallRewards_NeverWithTheOperatorKey_AndThePageRunsOnlyItsOwnScript()
    {
        var rewards = Rig.Rewards!.BaseUrl;
        var app = Rig.Ingress.BaseUrl;

        async Task<HttpResponseMessage> PreflightAsync(string origin, string headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, $"{rewards}/v1/me/balance");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            request.Headers.Add("Access-Control-Request-Headers", headers);
            return await Rig.Http.SendAsync(request, Ct);
        }

        // The app's origin may send a fan's bearer token.
        using (var ok = await PreflightAsync(app, "authorization"))
        {
            Assert.True(ok.Headers.TryGetValues("Access-Control-Allow-Origin", out var allowed), $"preflight from the app's origin: {(int)ok.StatusCode}, no Access-Control-Allow-Origin");
            Assert.Equal(app, Assert.Single(allowed));
        }

        // Another site may not; nor may the app's origin send the operator key or the sidecar's token.
        foreach (var (origin, headers) in new[] { ("https://evil.example", "authorization"), (app, "x-operator-key"), (app, "dapr-api-token") })
        {
            // The browser sends the request only when the answer allows the origin and names every header it asked for.
            using var refused = await PreflightAsync(origin, headers);
            var allowsOrigin = refused.Headers.TryGetValues("Access-Control-Allow-Origin", out var o) && o.Contains(origin);
            var allowsHeader = refused.Headers.TryGetValues("Access-Control-Allow-Headers", out var h)
                && h.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)).Contains(headers, StringComparer.OrdinalIgnoreCase);
            Assert.False(allowsOrigin && allowsHeader,
                $"a preflight from {origin} asking to send {headers} must not be allowed; got {(int)refused.StatusCode} with {string.Join("; ", refused.Headers.Select(x => $"{x.Key}: {string.Join(",", x.Value)}"))}");
        }

        // An actual cross-origin read from another site carries no permission for the browser to hand the answer over.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{rewards}/v1/tiers"))
        {
            request.Headers.Add("Origin", "https://evil.example");
            using var r = await Rig.Http.SendAsync(request, Ct);
            Assert.False(r.Headers.Contains("Access-Control-Allow-Origin"), "rewards must not allow another site's page to read it");
        }

        // CORS does not replace the token check: the app's origin without a token is still 401.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{rewards}/v1/me/balance"))
        {
            request.Headers.Add("Origin", app);
            using var r = await Rig.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        // The page: only its own script and the two services it calls; not framable.
        using var page = await Rig.Http.GetAsync($"{app}/app", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var csp = string.Join(" ", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains(new Uri(rewards).GetLeftPart(UriPartial.Authority), csp, StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        var config = JsonDocument.Parse(await Rig.Http.GetStringAsync($"{app}/app/config.json", Ct)).RootElement;
        Assert.Equal(rewards, config.GetProperty("rewardsUrl").GetString());
    }
}
