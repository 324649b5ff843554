using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FanVote.Launcher;

/// <summary>
/// Every secret one FanVote deployment on this host needs, generated at random the first time and kept in
/// <c>secrets.env</c> (KEY=VALUE lines, mode 0600) under the run directory: the API tokens between apps and sidecars
/// (one DAPR_API_TOKEN for the sidecars, one app token per app id), one key per purpose (fans' tokens, receipts, account
/// ids, the vote seal, the points ledger), the auditor's ECDSA key pair, the operator key, the development challenge
/// answer, and the passwords of the private Redis and PostgreSQL (its admin, and the points ledger's restricted role).
/// Nothing here is ever passed on a command line: processes get them in their environment, which only their own user
/// can read.
/// </summary>
public static class Secrets
{
    public const string FileName = "secrets.env";

    /// <summary>The app token of app <paramref name="appId"/>: what its sidecar sends and it checks (as APP_API_TOKEN).</summary>
    public static string AppTokenKey(string appId) => "FANVOTE_APP_TOKEN_" + appId.ToUpperInvariant().Replace('-', '_');

    /// <summary>Loads <paramref name="dir"/>/secrets.env, adding whatever is missing (for <paramref name="appIds"/> too), and returns them all.</summary>
    public static IReadOnlyDictionary<string, string> Ensure(string dir, IEnumerable<string> appIds)
    {
        ArgumentNullException.ThrowIfNull(appIds);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, FileName);
        var values = File.Exists(path) ? Read(path) : new Dictionary<string, string>(StringComparer.Ordinal);
        var before = values.Count;
        void Add(string key, Func<string> make)
        {
            if (!values.TryGetValue(key, out var v) || v.Length == 0)
            {
                values[key] = make();
            }
        }

        Add("DAPR_API_TOKEN", () => Token(32));
        foreach (var app in appIds)
        {
            Add(AppTokenKey(app), () => Token(32));
        }

        Add("FANVOTE_OPERATOR_KEY", () => Token(24));
        Add("FANVOTE_TOKEN_KEYS", () => "k1:" + Key());
        Add("FANVOTE_RECEIPT_KEY", Key);
        Add("FANVOTE_ACCOUNT_KEY", Key);
        Add("FANVOTE_VOTE_KEY", Key);
        Add("FANVOTE_LEDGER_KEY", Key);
        Add("FANVOTE_ACTION_LOG_KEY", Key);
        Add("FANVOTE_PSEUDONYM_KEY", Key);
        Add("FANVOTE_CHALLENGE_ANSWER", () => Token(12));
        Add("FANVOTE_REDIS_PASSWORD", () => Token(24));
        Add("FANVOTE_PG_PASSWORD", () => Token(24));
        Add("FANVOTE_REWARDS_PG_PASSWORD", () => Token(24));
        if (!values.ContainsKey("FANVOTE_AUDIT_SIGNING_KEY") || !values.ContainsKey("FANVOTE_AUDIT_PUBLIC_KEY"))
        {
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            values["FANVOTE_AUDIT_SIGNING_KEY"] = Convert.ToBase64String(ecdsa.ExportPkcs8PrivateKey());
            values["FANVOTE_AUDIT_PUBLIC_KEY"] = Convert.ToBase64String(ecdsa.ExportSubjectPublicKeyInfo());
        }

        if (values.Count != before || !File.Exists(path))
        {
            Write(path, values);
        }

        return values;
    }

    public static Dictionary<string, string> Read(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path))
        {
            var t = line.Trim();
            if (t.Length == 0 || t.StartsWith('#'))
            {
                continue;
            }

            var kv = t.Split('=', 2);
            if (kv.Length == 2)
            {
                values[kv[0]] = kv[1];
            }
        }

        return values;
    }

    /// <summary>Writes the file with mode 0600 from the start (never readable by others, not even for a moment).</summary>
    public static void Write(string path, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the launcher keeps secrets in a 0600 file; it runs on Linux");
        }

        var text = new StringBuilder("# FanVote secrets for this host (generated; keep private). KEY=VALUE, read by ./fanvote and the launcher.\n");
        foreach (var (k, v) in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            text.Append(k).Append('=').Append(v).Append('\n');
        }

        var temp = path + ".tmp";
        using (var f = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            f.Write(Encoding.UTF8.GetBytes(text.ToString()));
        }

        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
    }

    private static string Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static string Token(int bytes) =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_')
            .ToString(CultureInfo.InvariantCulture);
}
