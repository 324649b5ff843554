using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using FanVote.Security;
using FanVote.Testing;

namespace FanVote.Rewards.Tests;

/// <summary>Calls on the rig's rewards as an operator, as a fan and as the CLI, and the points a test gives a fan first.</summary>
public sealed class RewardsCalls(RewardsRig rig)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    public static string NewAccount() => Guid.NewGuid().ToString("N");

    /// <summary>As an operator: the rig's operator key, another <paramref name="key"/>, or none ("").</summary>
    public async Task<HttpResponseMessage> OperatorAsync(HttpMethod method, string path, object? body = null, string? key = null)
    {
        using var request = new HttpRequestMessage(method, rig.Rewards.BaseUrl + path) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not "")
        {
            request.Headers.Add("X-Operator-Key", key ?? TestKeys.OperatorKey);
        }

        return await rig.Http.SendAsync(request, Ct);
    }

    /// <summary>A session token as ingress would issue it, with "rewards" given unless <paramref name="consent"/> says otherwise.</summary>
    public string Token(string account, FanConsent? consent = null) =>
        rig.Tokens.Issue(account, "device-1", SessionKind.Guest, DateTimeOffset.UtcNow.AddDays(-30), consent ?? new FanConsent(PurposeNames.NeededToVote | Purposes.Rewards, AgeBand.Unknown));

    public async Task<HttpResponseMessage> FanAsync(HttpMethod method, string path, string? token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, rig.Rewards.BaseUrl + path) { Content = body is null ? null : JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await rig.Http.SendAsync(request, Ct);
    }

    /// <summary>The answer's JSON, after checking its status (a 500 brings rewards' log into the message).</summary>
    public async Task<JsonElement> JsonOf(HttpResponseMessage r, HttpStatusCode expected)
    {
        ArgumentNullException.ThrowIfNull(r);
        var text = await r.Content.ReadAsStringAsync(Ct);
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}" +
            (r.StatusCode == HttpStatusCode.InternalServerError ? "\nrewards' log:\n" + rig.Rewards.App.Output[^Math.Min(4000, rig.Rewards.App.Output.Length)..] : ""));
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<JsonElement> ProblemOf(HttpResponseMessage r, HttpStatusCode expected)
    {
        ArgumentNullException.ThrowIfNull(r);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        return await JsonOf(r, expected);
    }

    public Task<long> BalanceAsync(string account) =>
        rig.ScalarAsync("SELECT coalesce(max(balance), 0) FROM account_balances WHERE account = $1", Accounts.Fan(account));

    /// <summary>Gives the account points as the orchestrator's goodwill credit would, and waits until they are on its balance.</summary>
    public async Task GiveAsync(string account, long points)
    {
        var before = await BalanceAsync(account);
        await rig.Orchestrator.PublishEventAsync(ComponentNames.VoteBus, Topics.RewardRequests,
            new RewardRequested { EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, WindowId = NewId("gift"), AccountId = account, Reason = "goodwill", Points = points }, Ct);
        await Eventually.UntilAsync(async () => await BalanceAsync(account) == before + points, $"the {points} points given to {account} are on its balance");
    }

    /// <summary>`./fanvote` CLI verbs, with the rig's ledger key and anchor file.</summary>
    public async Task<(int Exit, string Output)> CliAsync(params string[] args)
    {
        await using var cli = ManagedProcess.Dotnet("cli", TestEnvironment.ProjectDll("FanVote.Cli"), args,
            new Dictionary<string, string?> { ["FANVOTE_LEDGER_KEY"] = Convert.ToBase64String(TestKeys.LedgerKey), ["FANVOTE_LEDGER_ANCHORS"] = rig.AnchorFile }).Start();
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(100); // let the output readers drain
        return (exit, cli.Output);
    }
}
