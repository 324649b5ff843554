using FanVote.Launcher;

namespace FanVote.Launcher.Tests;

/// <summary>The points ledger's settings (issue 11 item 7): only rewards holds the ledger key, its restricted connection and the anchor file; nobody gets the admin connection or passwords.</summary>
public sealed class LedgerSecretsTests
{
    private static readonly Dictionary<string, string> Given = new(StringComparer.Ordinal)
    {
        ["FANVOTE_PG_CONNECTION"] = "Host=h;Username=postgres;Password=admin-secret",
        ["FANVOTE_PG_ADMIN_CONNECTION"] = "Host=h;Username=postgres;Password=admin-secret",
        ["FANVOTE_PG_PASSWORD"] = "admin-secret",
        ["FANVOTE_REWARDS_PG_CONNECTION"] = "Host=h;Username=fanvote_rewards;Password=rewards-secret",
        ["FANVOTE_REWARDS_PG_PASSWORD"] = "rewards-secret",
        ["FANVOTE_LEDGER_KEY"] = "ledger-key",
        ["FANVOTE_LEDGER_ANCHORS"] = "/run/ledger-anchors.jsonl",
    };

    [Fact]
    public void Rewards_GetsOnlyTheRestrictedConnection_TheLedgerKeyAndTheAnchorFile()
    {
        var rewards = EnvPlan.For("rewards", sidecar: false, Given);

        Assert.Equal(["FANVOTE_LEDGER_ANCHORS", "FANVOTE_LEDGER_KEY", "FANVOTE_REWARDS_PG_CONNECTION"], rewards.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("tally", false)]
    [InlineData("ingress", false)]
    [InlineData("orchestrator", false)]
    [InlineData("rewards", true)]
    public void NoOtherProcess_GetsTheLedgerKeyOrTheRewardsConnection_NoneTheAdminOrPasswords(string appId, bool sidecar)
    {
        var env = EnvPlan.For(appId, sidecar, Given);

        Assert.DoesNotContain("FANVOTE_LEDGER_KEY", env.Keys);
        Assert.DoesNotContain("FANVOTE_REWARDS_PG_CONNECTION", env.Keys);
        Assert.DoesNotContain("FANVOTE_LEDGER_ANCHORS", env.Keys);
        Assert.DoesNotContain("FANVOTE_PG_ADMIN_CONNECTION", env.Keys);
        Assert.DoesNotContain("FANVOTE_PG_PASSWORD", env.Keys);
        Assert.DoesNotContain("FANVOTE_REWARDS_PG_PASSWORD", env.Keys);
        Assert.Equal(appId == "tally" && !sidecar, env.ContainsKey("FANVOTE_PG_CONNECTION"));
    }

    [Fact]
    public void Secrets_GenerateTheRestrictedRolesPasswordAndTheLedgerKey_ApartFromTheAdmins()
    {
        var dir = Directory.CreateTempSubdirectory("fanvote-secrets-").FullName;
        try
        {
            var values = Secrets.Ensure(dir, ["rewards"]);

            Assert.True(values["FANVOTE_REWARDS_PG_PASSWORD"].Length >= 24);
            Assert.NotEqual(values["FANVOTE_PG_PASSWORD"], values["FANVOTE_REWARDS_PG_PASSWORD"]);
            Assert.True(Convert.FromBase64String(values["FANVOTE_LEDGER_KEY"]).Length >= 32);
            Assert.Equal(values["FANVOTE_REWARDS_PG_PASSWORD"], Secrets.Ensure(dir, ["rewards"])["FANVOTE_REWARDS_PG_PASSWORD"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
