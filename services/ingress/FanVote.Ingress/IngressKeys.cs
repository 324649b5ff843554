using System.Security.Cryptography;
using FanVote.Ingress.Core;
using Microsoft.Extensions.Options;

namespace FanVote.Ingress;

/// <summary>
/// The keys every ingress instance must share: token signing keys, the receipt key, and a secret for account
/// ids and passcode hashes. Missing ones fall back to built-in development keys, with a warning in the log.
/// </summary>
public sealed class IngressKeys : IDisposable
{
    public IngressKeys(IOptions<IngressOptions> options, TimeProvider time, ILogger<IngressKeys> log)
    {
        var o = options.Value;
        var keys = SessionKeyRing.Parse(o.TokenKeys, out var development);
        if (development)
        {
            IngressLog.DevelopmentKey(log, "token signing key (FANVOTE_TOKEN_KEYS)");
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

    public void Dispose()
    {
        Tokens.Dispose();
        Receipts.Dispose();
    }

    private static byte[] Derive(string purpose) => SessionKeyRing.DevelopmentKey(purpose);
}
