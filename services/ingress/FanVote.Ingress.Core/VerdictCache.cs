using System.Collections.Concurrent;
using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Ingress.Core;

/// <summary>A verdict ingress enforces: the challenge id is the verdict's event id (unique, unguessable).</summary>
public sealed record CachedVerdict(string SubjectKind, string Subject, Guid ChallengeId, RiskAction Action, DateTimeOffset ExpiresAt, IReadOnlyList<string> Reasons);

/// <summary>
/// The risk verdicts in force, in memory, per account and per device: the vote path asks <see cref="Find"/>, which is a
/// dictionary read per subject and nothing else (no I/O, no allocation; nothing at all while no verdict is known).
/// Passed challenges are remembered until their verdict would have lapsed, so a late or redelivered copy of the same
/// verdict cannot bring it back.
/// </summary>
public sealed class VerdictCache
{
    private readonly ConcurrentDictionary<string, CachedVerdict> _accounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedVerdict> _devices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _passed = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Takes a verdict in (a newer one for the same subject replaces it); false if it is expired, already passed, or not enforceable here.</summary>
    public bool Apply(CachedVerdict verdict, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (Table(verdict.SubjectKind) is not { } table || verdict.ExpiresAt <= now || _passed.ContainsKey(verdict.ChallengeId))
        {
            return false;
        }

        if (verdict.Action == RiskAction.Clear)
        {
            Remove(table, verdict.Subject);
            return true;
        }

        table.AddOrUpdate(verdict.Subject, _ => { Interlocked.Increment(ref _count); return verdict; }, (_, _) => verdict);
        return true;
    }

    /// <summary>The verdict stopping a vote of <paramref name="account"/> on <paramref name="device"/>, if any (the account's first).</summary>
    public CachedVerdict? Find(string account, string device, DateTimeOffset now)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return null;
        }

        return Live(_accounts, account, now) ?? Live(_devices, device, now);
    }

    public CachedVerdict? FindChallenge(Guid challengeId, string account, string device, DateTimeOffset now) =>
        Live(_accounts, account, now) is { } a && a.ChallengeId == challengeId ? a
        : Live(_devices, device, now) is { } d && d.ChallengeId == challengeId ? d
        : null;

    /// <summary>The challenge was passed: the verdict goes, and stays gone.</summary>
    public void Pass(string subjectKind, string subject, Guid challengeId, DateTimeOffset verdictExpiresAt)
    {
        _passed[challengeId] = verdictExpiresAt;
        if (Table(subjectKind) is { } table && table.TryGetValue(subject, out var v) && v.ChallengeId == challengeId)
        {
            Remove(table, subject);
        }
    }

    public bool WasPassed(Guid challengeId) => _passed.ContainsKey(challengeId);

    /// <summary>Drops lapsed verdicts and lapsed memories of passed challenges.</summary>
    public void Sweep(DateTimeOffset now)
    {
        foreach (var table in new[] { _accounts, _devices })
        {
            foreach (var (subject, v) in table)
            {
                if (v.ExpiresAt <= now)
                {
                    Remove(table, subject);
                }
            }
        }

        foreach (var (id, until) in _passed)
        {
            if (until <= now)
            {
                _passed.TryRemove(id, out _);
            }
        }
    }

    private static CachedVerdict? Live(ConcurrentDictionary<string, CachedVerdict> table, string subject, DateTimeOffset now) =>
        table.TryGetValue(subject, out var v) && v.ExpiresAt > now ? v : null;

    private void Remove(ConcurrentDictionary<string, CachedVerdict> table, string subject)
    {
        if (table.TryRemove(subject, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private ConcurrentDictionary<string, CachedVerdict>? Table(string kind) => kind switch
    {
        RiskSubjects.Account => _accounts,
        RiskSubjects.Device => _devices,
        _ => null, // an IP prefix is shared by too many real fans to refuse on it
    };
}
