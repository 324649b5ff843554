using System.Security.Cryptography;
using System.Text;
using FanVote.Ingress.Core;
using Microsoft.Extensions.Options;

namespace FanVote.Ingress;

/// <summary>
/// The keys every ingress instance must share: token signing keys, the receipt key, and a secret for account
/// ids and passcode hashes. Missing ones fall back to built-in development keys, with a warning in the log.
/// </summary>
public sealed class IngressKeys
{
    private const string DevSecret = "fanvote-development-only-secret-do-not-use-in-production";

    public IngressKeys(IOptions<IngressOptions> options, TimeProvider time, ILogger<IngressKeys> log)
    {
        var o = options.Value;
        var keys = new List<(string, byte[])>();
        foreach (var part in o.TokenKeys.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split(':', 2);
            keys.Add((kv[0], Convert.FromBase64String(kv[1])));
        }

        if (keys.Count == 0)
        {
            IngressLog.DevelopmentKey(log, "token signing key (FANVOTE_TOKEN_KEYS)");
            keys.Add(("dev", Derive("token")));
        }

        Secret = o.ReceiptKey.Length > 0 ? Convert.FromBase64String(o.ReceiptKey) : Derive("receipt");
        if (o.ReceiptKey.Length == 0)
        {
            IngressLog.DevelopmentKey(log, "receipt key (FANVOTE_RECEIPT_KEY)");
        }

        Tokens = new SessionTokens(keys, o.TokenLifetime, time);
        Receipts = new VoteReceipts(Secret);
        Accounts = new AccountIds(SHA256.HashData([.. Secret, .. "accounts"u8]));
    }

    public SessionTokens Tokens { get; }

    public VoteReceipts Receipts { get; }

    public AccountIds Accounts { get; }

    public byte[] Secret { get; }

    private static byte[] Derive(string purpose) => SHA256.HashData(Encoding.UTF8.GetBytes($"{DevSecret}\n{purpose}"));
}
