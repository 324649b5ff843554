using FanVote.Ingress.Core;
using FanVote.Security;
using FanVote.ServiceDefaults.Auth;

namespace FanVote.Ingress;

/// <summary>
/// Ingress's keys, one per purpose, each from its own setting (base64, 32+ bytes, all different; only in Development
/// may one be missing, then it is a public development key and logged as such): the receipt key
/// (FANVOTE_RECEIPT_KEY), the account key (FANVOTE_ACCOUNT_KEY: account ids and passcode hashes, by HKDF labels; keep it
/// stable, a new one gives every fan a new account id) and the vote seal key (FANVOTE_VOTE_KEY, shared with tally only).
/// Fans' token keys are loaded by the session scheme (<see cref="FanVoteAuth.AddFanSessions"/>).
/// </summary>
public sealed class IngressKeys : IDisposable
{
    public const string ReceiptKeySetting = "FANVOTE_RECEIPT_KEY";
    public const string AccountKeySetting = "FANVOTE_ACCOUNT_KEY";

    public IngressKeys(IServiceProvider services, IConfiguration config)
    {
        var accountKey = services.Key(config, AccountKeySetting, "accounts");
        Receipts = new VoteReceipts(services.Key(config, ReceiptKeySetting, "receipt"));
        Seal = new VoteSeal(services.Key(config, VoteSeal.Setting, "vote-seal"));
        Accounts = new AccountIds(KeySet.Derive(accountKey, "account-ids"));
        OtpKey = KeySet.Derive(accountKey, "otp-hashes");
    }

    public VoteReceipts Receipts { get; }

    public VoteSeal Seal { get; }

    public AccountIds Accounts { get; }

    /// <summary>Keys the HMACs under which contacts and passcodes are stored (never in the clear).</summary>
    public byte[] OtpKey { get; }

    public void Dispose()
    {
        Receipts.Dispose();
        Seal.Dispose();
    }
}
