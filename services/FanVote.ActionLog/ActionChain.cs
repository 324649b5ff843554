using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FanVote.Security;

namespace FanVote.ActionLog;

/// <summary>
/// The action log key (FANVOTE_ACTION_LOG_KEY, 32+ bytes): only the orchestrator, which chains rows and records
/// anchors, and the verifier hold it; the state store never does. Two keys are derived from it (HKDF-SHA256), one for
/// the chain and one for the anchor records, so neither kind of MAC can be passed off as the other.
/// </summary>
public sealed class ActionLogKey
{
    public const string Setting = "FANVOTE_ACTION_LOG_KEY";

    /// <summary>Where the orchestrator appends the log's heads (a file the state store's admins cannot write).</summary>
    public const string AnchorsSetting = "FANVOTE_ACTION_LOG_ANCHORS";

    private const string AnchorFormat = "fanvote-action-log-anchor-v1";

    public ActionLogKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < KeySet.MinimumBytes)
        {
            throw new ArgumentException($"the action log key needs at least {KeySet.MinimumBytes} bytes", nameof(key));
        }

        ChainKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: Encoding.UTF8.GetBytes("fanvote\naction-log-chain"));
        Anchors = new ChainAnchors(AnchorFormat, HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: Encoding.UTF8.GetBytes("fanvote\naction-log-anchors")), "the orchestrator");
    }

    internal byte[] ChainKey { get; }

    /// <summary>The anchor records of this log (lines and their reader).</summary>
    public ChainAnchors Anchors { get; }
}

/// <summary>How a row's hash is made, and how a draft joins the chain after a head.</summary>
public static class ActionChain
{
    public const string Format = "fanvote-action-log-v1";

    /// <summary>The previous hash of row 1.</summary>
    public static string Genesis { get; } = new('0', 64);

    /// <summary>
    /// HMAC-SHA256 (the chain key) over "fanvote-action-log-v1\n" and the JSON array [id, at (Unix ms), actor, action,
    /// target, outcome, from, [[key, value], ...] (detail, keys in ordinal order), previous hash], UTF-8: JSON's string
    /// escaping keeps every field's boundary unambiguous whatever it holds. The position is not hashed: the chain is the order.
    /// </summary>
    public static string Hash(ActionLogKey key, ActionRecord row)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(row);
        using var buffer = new MemoryStream();
        buffer.Write(Encoding.UTF8.GetBytes(Format + "\n"));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            w.WriteStringValue(row.Id);
            w.WriteNumberValue(row.At.ToUnixTimeMilliseconds());
            w.WriteStringValue(row.Actor);
            w.WriteStringValue(row.Action);
            w.WriteStringValue(row.Target);
            w.WriteStringValue(row.Outcome);
            w.WriteStringValue(row.From);
            w.WriteStartArray();
            foreach (var (k, v) in row.Detail.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                w.WriteStartArray();
                w.WriteStringValue(k);
                w.WriteStringValue(v);
                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteStringValue(row.PrevHash);
            w.WriteEndArray();
        }

        return Convert.ToHexStringLower(HMACSHA256.HashData(key.ChainKey, buffer.ToArray()));
    }

    /// <summary>The row <paramref name="draft"/> becomes after the head (<paramref name="headSeq"/>, <paramref name="headHash"/>; 0 and <see cref="Genesis"/> for an empty log).</summary>
    public static ActionRecord Next(ActionLogKey key, long headSeq, string headHash, ActionDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentException.ThrowIfNullOrEmpty(draft.Id);
        ArgumentException.ThrowIfNullOrEmpty(draft.Action);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(draft.At.ToUnixTimeMilliseconds());
        var detail = new SortedDictionary<string, string>(draft.Detail.ToDictionary(), StringComparer.Ordinal);
        var row = new ActionRecord(headSeq + 1, draft.Id, at, draft.Actor, draft.Action, draft.Target, draft.Outcome, draft.From, detail, headHash, "");
        return row with { Hash = Hash(key, row) };
    }
}
