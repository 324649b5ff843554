namespace FanVote.Launcher;

/// <summary>
/// Which process gets which setting. Everything the caller passes goes to every app and sidecar, except the secrets:
/// each goes only to the apps that use it (results never holds the vote key, fraud no database password), the app
/// token of an app to that app and its sidecar (as APP_API_TOKEN), the sidecars' API token to every app and sidecar.
/// </summary>
public static class EnvPlan
{
    private const string Sidecars = "*sidecars";

    /// <summary>Secret settings and who may have them (app ids, or every sidecar).</summary>
    public static IReadOnlyDictionary<string, string[]> SecretScopes { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["FANVOTE_OPERATOR_KEY"] = ["orchestrator", "ingress", "rewards"], // ingress: consent rates (GET /v1/consent); rewards: spin wheels
        ["FANVOTE_TOKEN_KEYS"] = ["ingress", "rewards", "orchestrator"], // orchestrator: a fan's data requests (GET /v1/me/data, DELETE /v1/me)
        ["FANVOTE_RECEIPT_KEY"] = ["ingress"],
        ["FANVOTE_ACCOUNT_KEY"] = ["ingress"],
        ["FANVOTE_CHALLENGE_ANSWER"] = ["ingress"],
        ["FANVOTE_VOTE_KEY"] = ["ingress", "tally"],
        ["FANVOTE_AUDIT_SIGNING_KEY"] = ["tally"],
        ["FANVOTE_PSEUDONYM_KEY"] = ["tally"],
        ["FANVOTE_LEDGER_KEY"] = ["rewards"],
        ["FANVOTE_ACTION_LOG_KEY"] = ["orchestrator"],
        ["FANVOTE_ACTION_LOG_ANCHORS"] = ["orchestrator"],
        ["FANVOTE_PG_CONNECTION"] = ["tally"],
        // Rewards gets only the points ledger's restricted role (INSERT/SELECT); the migrate step, run by `up` before
        // the launcher, is the only holder of the admin connection.
        ["FANVOTE_REWARDS_PG_CONNECTION"] = ["rewards"],
        ["FANVOTE_LEDGER_ANCHORS"] = ["rewards"],
        ["FANVOTE_PG_ADMIN_CONNECTION"] = [],
        ["FANVOTE_PG_PASSWORD"] = [],
        ["FANVOTE_REWARDS_PG_PASSWORD"] = [],
        ["FANVOTE_REDIS_PASSWORD"] = ["ingress", Sidecars],
        ["FANVOTE_SECRETS_FILE"] = [Sidecars],
    };

    /// <summary>
    /// True for a setting that must reach a process only when <see cref="For"/> gives it: the secrets, the app tokens, and
    /// the test harness's connection settings. A child inherits the launcher's environment, so these are removed first.
    /// </summary>
    public static bool IsSecret(string key) =>
        SecretScopes.ContainsKey(key) || key.StartsWith("FANVOTE_APP_TOKEN_", StringComparison.Ordinal) ||
        key is "APP_API_TOKEN" or "DAPR_API_TOKEN" or "FANVOTE_TEST_PG" or "FANVOTE_TEST_REDIS" or "PGPASSWORD" or "REDISCLI_AUTH";

    /// <summary>The environment of <paramref name="appId"/>'s sidecar (<paramref name="sidecar"/> true) or app.</summary>
    public static Dictionary<string, string> For(string appId, bool sidecar, IReadOnlyDictionary<string, string> given)
    {
        ArgumentNullException.ThrowIfNull(given);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in given)
        {
            if (k.StartsWith("FANVOTE_APP_TOKEN_", StringComparison.Ordinal))
            {
                continue;
            }

            if (!SecretScopes.TryGetValue(k, out var scope) || (sidecar ? scope.Contains(Sidecars) : scope.Contains(appId)))
            {
                env[k] = v;
            }
        }

        if (given.TryGetValue(Secrets.AppTokenKey(appId), out var appToken))
        {
            env["APP_API_TOKEN"] = appToken;
        }

        return env;
    }
}
