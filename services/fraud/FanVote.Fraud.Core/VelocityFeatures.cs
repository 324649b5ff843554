using FanVote.Contracts;

namespace FanVote.Fraud.Core;

/// <summary>Limits of the extractor's memory.</summary>
public sealed record FeatureOptions
{
    /// <summary>
    /// Subjects of one kind tracked at once. A new subject beyond it (after idle ones were swept) is scored as if it
    /// had no history, and <see cref="VelocityFeatures.Untracked"/> counts it.
    /// </summary>
    public int MaxSubjectsPerKind { get; init; } = 1_000_000;

    /// <summary>An account younger than this counts as fresh (for <c>ip_fresh_account_share</c>).</summary>
    public TimeSpan FreshAccountAge { get; init; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Counters per row of the group sketch (a power of two; two rows, two epochs, 2 bytes each: 32 MB at the
    /// default). The counts stay close while the keys added over two epochs (about three per episode an account
    /// starts) stay below a few times the width; see ml-models/README.md.
    /// </summary>
    public int GroupSketchWidth { get; init; } = 1 << 22;

    /// <summary>How long a group key counts: the current epoch and the one before it.</summary>
    public TimeSpan GroupEpoch { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// The vote-velocity features, one vector per vote, computed from the votes seen before it and the vote itself.
/// The trainer runs a CSV through it in time order and the fraud service runs the live stream through it, with the
/// same code. Single-threaded: one instance per stream. Memory is bounded: every subject keeps fixed-size bucket
/// rings and small sets, subjects idle for longer than the longest window are swept, and the number of subjects per
/// kind is capped (<see cref="FeatureOptions.MaxSubjectsPerKind"/>). Nothing is allocated per vote except for a
/// subject seen for the first time (and states are reused after a sweep).
/// </summary>
public sealed class VelocityFeatures
{
    /// <summary>The longest window (10 minutes).</summary>
    public const long HorizonMs = 600_000;
    internal const long Window60sMs = 60_000;
    internal const int RegularityTimes = 9;
    internal const int MaxAccountsPerSubject = 64;
    internal const int MaxPrefixesPerAccount = 8;
    private const long SweepEveryMs = 60_000;

    private readonly FeatureOptions _options;
    private readonly long _freshMs;
    private readonly Dictionary<string, SubjectState> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SubjectState> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SubjectState> _prefixes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SubjectState>.AlternateLookup<ReadOnlySpan<char>> _prefixLookup;
    private readonly Dictionary<(string Window, string Candidate), int> _candidates = [];
    private readonly Stack<SubjectState> _pool = new();
    private readonly SubjectState[] _scratch = [new(), new(), new()];
    private readonly List<string> _expired = [];
    private readonly GroupFeatures _groups;
    private long _nextSweepMs = long.MinValue;

    public VelocityFeatures(FeatureOptions? options = null)
    {
        _options = options ?? new FeatureOptions();
        _freshMs = (long)_options.FreshAccountAge.TotalMilliseconds;
        _prefixLookup = _prefixes.GetAlternateLookup<ReadOnlySpan<char>>();
        _groups = new GroupFeatures(_options.GroupSketchWidth, _options.GroupEpoch, _freshMs);
    }

    /// <summary>
    /// The group the last extracted vote's account acts in step with, when one is big enough to keep a roster of
    /// (<see cref="GroupFeatures.MinRosterSize"/> accounts); null otherwise. Valid until the next <see cref="Extract"/>.
    /// </summary>
    public GroupRoster? LastGroup => _groups.LastRoster;

    /// <summary>Subjects currently tracked (accounts, devices, IP prefixes).</summary>
    public (int Accounts, int Devices, int Prefixes) Tracked => (_accounts.Count, _devices.Count, _prefixes.Count);

    /// <summary>Votes whose subject could not be tracked because a kind was at its cap.</summary>
    public long Untracked { get; private set; }

    /// <summary>Records <paramref name="vote"/> and writes its <see cref="FeatureSchema.Count"/> features into <paramref name="features"/>.</summary>
    public void Extract(in VoteInput vote, Span<float> features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features.Length, FeatureSchema.Count, nameof(features));
        var t = vote.AcceptedAtMs;
        Sweep(t);
        Span<char> prefixBuffer = stackalloc char[RiskSubjects.MaxIpPrefixLength];
        ReadOnlySpan<char> prefix = RiskSubjects.TryFormatIpPrefix(vote.Ip, prefixBuffer, out var written) ? prefixBuffer[..written] : "unknown";

        var candidate = CandidateKey(vote.WindowId, vote.CandidateId);
        var account = Get(_accounts, vote.AccountId, 0);
        var device = Get(_devices, vote.DeviceId, 1);
        var ip = GetPrefix(prefix);
        var accountHash = StableHash.Of(vote.AccountId);
        var fresh = t - vote.AccountCreatedAtMs < _freshMs;

        _groups.Extract(ref account.Group, vote.AccountId, candidate, t, vote.AccountCreatedAtMs, features);
        account.Record(t, candidate);
        device.Record(t, candidate);
        ip.Record(t, candidate);
        device.Accounts.Touch(accountHash, t, fresh, MaxAccountsPerSubject);
        ip.Accounts.Touch(accountHash, t, fresh, MaxAccountsPerSubject);
        account.Prefixes.Touch(StableHash.Of(prefix), t, false, MaxPrefixesPerAccount);
        account.Devices.Touch(StableHash.Of(vote.DeviceId), t, false, MaxPrefixesPerAccount);

        features[FeatureSchema.AcctVotes10s] = account.Counts.In10s(t);
        features[FeatureSchema.AcctVotes60s] = account.Counts.In60s(t);
        features[FeatureSchema.AcctVotes10m] = account.Counts.In10m(t);
        features[FeatureSchema.DevVotes10s] = device.Counts.In10s(t);
        features[FeatureSchema.DevVotes60s] = device.Counts.In60s(t);
        features[FeatureSchema.DevVotes10m] = device.Counts.In10m(t);
        features[FeatureSchema.IpVotes10s] = ip.Counts.In10s(t);
        features[FeatureSchema.IpVotes60s] = ip.Counts.In60s(t);
        features[FeatureSchema.IpVotes10m] = ip.Counts.In10m(t);

        features[FeatureSchema.DevAccounts10m] = device.Accounts.CountSince(t, HorizonMs).Count;
        var (ipAccounts, ipFresh) = ip.Accounts.CountSince(t, HorizonMs);
        features[FeatureSchema.IpAccounts10m] = ipAccounts;
        features[FeatureSchema.IpFreshAccountShare] = ipAccounts == 0 ? 0f : (float)ipFresh / ipAccounts;

        var (acctCv, acctGaps, acctMeanGap) = account.Recent.Regularity(t, HorizonMs, RegularityTimes);
        features[FeatureSchema.AcctGapCv] = acctCv;
        features[FeatureSchema.AcctGapCount] = acctGaps;
        features[FeatureSchema.AcctGapMeanLog] = (float)Math.Log(1 + (acctMeanGap / 1000));
        var (devCv, devGaps, _) = device.Recent.Regularity(t, HorizonMs, RegularityTimes);
        features[FeatureSchema.DevGapCv] = devCv;
        features[FeatureSchema.DevGapCount] = devGaps;

        features[FeatureSchema.AcctCandidateShare] = account.Recent.CandidateShare(t, HorizonMs, candidate);
        features[FeatureSchema.DevCandidateShare] = device.Recent.CandidateShare(t, HorizonMs, candidate);
        features[FeatureSchema.IpCandidateShare] = ip.Recent.CandidateShare(t, HorizonMs, candidate);
        features[FeatureSchema.AcctIpPrefixes10m] = account.Prefixes.CountSince(t, HorizonMs).Count;
        features[FeatureSchema.AcctDevices10m] = account.Devices.CountSince(t, HorizonMs).Count;
        features[FeatureSchema.AccountAgeLog] = (float)Math.Log(1 + (Math.Max(0, t - vote.AccountCreatedAtMs) / 60_000.0));
    }

    private int CandidateKey(string window, string candidate)
    {
        if (!_candidates.TryGetValue((window, candidate), out var key))
        {
            if (_candidates.Count >= 100_000)
            {
                // Only the 10-minute rings compare keys, and only for equality; a rare reset costs a little accuracy
                // for a few minutes instead of unbounded memory.
                _candidates.Clear();
            }

            key = _candidates.Count + 1;
            _candidates[(window, candidate)] = key;
        }

        return key;
    }

    private SubjectState Get(Dictionary<string, SubjectState> table, string key, int kind)
    {
        if (table.TryGetValue(key, out var state))
        {
            return state;
        }

        if (table.Count >= _options.MaxSubjectsPerKind)
        {
            return Scratch(kind);
        }

        state = Rent();
        table[key] = state;
        return state;
    }

    private SubjectState GetPrefix(ReadOnlySpan<char> prefix)
    {
        if (_prefixLookup.TryGetValue(prefix, out var state))
        {
            return state;
        }

        if (_prefixes.Count >= _options.MaxSubjectsPerKind)
        {
            return Scratch(2);
        }

        state = Rent();
        _prefixLookup[prefix] = state;
        return state;
    }

    private SubjectState Scratch(int kind)
    {
        Untracked++;
        _scratch[kind].Reset();
        return _scratch[kind];
    }

    /// <summary>What is kept about <paramref name="accountId"/> now: votes in its last 10 minutes and its last vote (event time), or null.</summary>
    public (int VotesIn10m, long LastSeenMs)? Describe(string accountId) =>
        _accounts.TryGetValue(accountId, out var s) ? (s.Counts.In10m(s.LastSeenMs), s.LastSeenMs) : null;

    /// <summary>A fan's erasure: drops everything kept about <paramref name="accountId"/>; true when there was something.</summary>
    public bool Forget(string accountId)
    {
        _groups.Forget(accountId);
        if (!_accounts.Remove(accountId, out var state))
        {
            return false;
        }

        _pool.Push(state);
        return true;
    }

    private SubjectState Rent()
    {
        var state = _pool.Count > 0 ? _pool.Pop() : new SubjectState();
        state.Reset();
        return state;
    }

    /// <summary>Once a minute of event time, forgets subjects with no vote in the last 10 minutes (they would count 0 anyway).</summary>
    private void Sweep(long nowMs)
    {
        if (nowMs < _nextSweepMs)
        {
            return;
        }

        _nextSweepMs = nowMs + SweepEveryMs;
        var before = nowMs - HorizonMs - Window60sMs;
        foreach (var table in new[] { _accounts, _devices, _prefixes })
        {
            _expired.Clear();
            foreach (var (key, state) in table)
            {
                if (state.LastSeenMs < before)
                {
                    _expired.Add(key);
                }
            }

            foreach (var key in _expired)
            {
                if (table.Remove(key, out var state))
                {
                    _pool.Push(state);
                }
            }
        }
    }
}
