using System.Runtime.CompilerServices;

namespace FanVote.Fraud.Core;

[InlineArray(10)]
internal struct Ring10
{
    private int _element;
}

[InlineArray(6)]
internal struct Ring6
{
    private int _element;
}

[InlineArray(RecentVotes.Capacity)]
internal struct TimeRing
{
    private long _element;
}

[InlineArray(RecentVotes.Capacity)]
internal struct CandidateRing
{
    private int _element;
}

/// <summary>
/// Votes of one subject in trailing windows, counted in buckets (no per-vote memory): the 10 s window is the
/// vote's own 1-second bucket and the 9 before it, the 60 s window its 10-second bucket and the 5 before it, the
/// 10 min window its 1-minute bucket and the 9 before it. So each window reaches back between (n-1) and n buckets.
/// A vote older than a ring's reach is not counted there.
/// </summary>
internal struct VoteCounter
{
    private const long Empty = long.MinValue;
    private Ring10 _seconds;
    private Ring6 _tens;
    private Ring10 _minutes;
    private long _secondsHead;
    private long _tensHead;
    private long _minutesHead;

    public VoteCounter() => Reset();

    public void Reset()
    {
        _secondsHead = _tensHead = _minutesHead = Empty;
    }

    public void Add(long atMs)
    {
        Bump(_seconds, ref _secondsHead, atMs / 1_000);
        Bump(_tens, ref _tensHead, atMs / 10_000);
        Bump(_minutes, ref _minutesHead, atMs / 60_000);
    }

    public readonly int In10s(long atMs) => Sum(_seconds, _secondsHead, atMs / 1_000);

    public readonly int In60s(long atMs) => Sum(_tens, _tensHead, atMs / 10_000);

    public readonly int In10m(long atMs) => Sum(_minutes, _minutesHead, atMs / 60_000);

    private static void Bump(Span<int> ring, ref long head, long bucket)
    {
        var n = ring.Length;
        if (head == Empty || bucket - head >= n)
        {
            ring.Clear();
            head = bucket;
        }
        else if (bucket > head)
        {
            for (var b = head + 1; b <= bucket; b++)
            {
                ring[(int)(b % n)] = 0;
            }

            head = bucket;
        }
        else if (head - bucket >= n)
        {
            return;
        }

        ring[(int)(bucket % n)]++;
    }

    private static int Sum(ReadOnlySpan<int> ring, long head, long bucket)
    {
        if (head == Empty)
        {
            return 0;
        }

        var n = ring.Length;
        var hi = Math.Min(bucket, head);
        var lo = Math.Max(bucket - n + 1, head - n + 1);
        var sum = 0;
        for (var b = lo; b <= hi; b++)
        {
            sum += ring[(int)(b % n)];
        }

        return sum;
    }
}

/// <summary>
/// The subject's latest <see cref="Capacity"/> votes (time and candidate), sorted by time, for inter-arrival
/// regularity and candidate concentration. A late vote is inserted in order; the oldest falls out.
/// </summary>
internal struct RecentVotes
{
    public const int Capacity = 16;
    private TimeRing _times;
    private CandidateRing _candidates;
    private int _count;

    public readonly int Count => _count;

    public void Reset() => _count = 0;

    public void Add(long atMs, int candidate)
    {
        var i = _count;
        if (_count == Capacity)
        {
            if (atMs < _times[0])
            {
                return; // older than everything kept
            }

            ((Span<long>)_times)[1..].CopyTo(_times);
            ((Span<int>)_candidates)[1..].CopyTo(_candidates);
            i = Capacity - 1;
        }
        else
        {
            _count++;
        }

        while (i > 0 && _times[i - 1] > atMs)
        {
            _times[i] = _times[i - 1];
            _candidates[i] = _candidates[i - 1];
            i--;
        }

        _times[i] = atMs;
        _candidates[i] = candidate;
    }

    /// <summary>
    /// Coefficient of variation (population standard deviation / mean) of the gaps between the latest
    /// <paramref name="maxTimes"/> votes in (<paramref name="atMs"/> - horizon, <paramref name="atMs"/>]; with fewer
    /// than 2 gaps the CV is reported as 1 (unknown, like a person) and the gap count says why.
    /// </summary>
    public readonly (float Cv, int Gaps, double MeanGapMs) Regularity(long atMs, long horizonMs, int maxTimes)
    {
        var end = _count;
        while (end > 0 && _times[end - 1] > atMs)
        {
            end--;
        }

        var start = Math.Max(0, end - maxTimes);
        while (start < end && _times[start] <= atMs - horizonMs)
        {
            start++;
        }

        var gaps = end - start - 1;
        if (gaps < 1)
        {
            return (1f, 0, 0);
        }

        double sum = 0, sumSq = 0;
        for (var i = start + 1; i < end; i++)
        {
            double g = _times[i] - _times[i - 1];
            sum += g;
            sumSq += g * g;
        }

        var mean = sum / gaps;
        if (gaps < 2)
        {
            return (1f, gaps, mean);
        }

        var variance = Math.Max(0, (sumSq / gaps) - (mean * mean));
        return (mean <= 0 ? 0f : (float)(Math.Sqrt(variance) / mean), gaps, mean);
    }

    /// <summary>Share of the kept votes in (<paramref name="atMs"/> - horizon, <paramref name="atMs"/>] that went to <paramref name="candidate"/>.</summary>
    public readonly float CandidateShare(long atMs, long horizonMs, int candidate)
    {
        int total = 0, same = 0;
        for (var i = 0; i < _count; i++)
        {
            if (_times[i] > atMs - horizonMs && _times[i] <= atMs)
            {
                total++;
                if (_candidates[i] == candidate)
                {
                    same++;
                }
            }
        }

        return total == 0 ? 0f : (float)same / total;
    }
}

/// <summary>
/// Distinct members (accounts of a device, prefixes of an account, ...) seen in a trailing horizon, exact up to a
/// capacity: each member keeps its last-seen time and a flag (e.g. "fresh account"); when full, the member seen
/// longest ago makes room. So counts saturate at the capacity, which is far beyond what an honest subject shows.
/// </summary>
internal struct DistinctSet
{
    private Member[]? _members;
    private int _count;

    public void Reset() => _count = 0;

    public void Touch(ulong member, long atMs, bool flag, int capacity)
    {
        var members = _members;
        var oldest = -1;
        for (var i = 0; i < _count; i++)
        {
            if (members![i].Hash == member)
            {
                members[i].LastSeen = Math.Max(members[i].LastSeen, atMs);
                members[i].Flag = flag;
                return;
            }

            if (oldest < 0 || members[i].LastSeen < members[oldest].LastSeen)
            {
                oldest = i;
            }
        }

        if (_count < capacity)
        {
            if (members is null || _count == members.Length)
            {
                Array.Resize(ref _members, Math.Min(capacity, Math.Max(2, _count * 2)));
                members = _members;
            }

            members![_count++] = new Member(member, atMs, flag);
        }
        else if (members![oldest].LastSeen <= atMs)
        {
            members[oldest] = new Member(member, atMs, flag);
        }
    }

    /// <summary>Members seen in (<paramref name="atMs"/> - horizon, <paramref name="atMs"/>] and how many of them carry the flag.</summary>
    public readonly (int Count, int Flagged) CountSince(long atMs, long horizonMs)
    {
        int n = 0, flagged = 0;
        for (var i = 0; i < _count; i++)
        {
            if (_members![i].LastSeen > atMs - horizonMs)
            {
                n++;
                if (_members[i].Flag)
                {
                    flagged++;
                }
            }
        }

        return (n, flagged);
    }

    private struct Member(ulong hash, long lastSeen, bool flag)
    {
        public ulong Hash = hash;
        public long LastSeen = lastSeen;
        public bool Flag = flag;
    }
}

/// <summary>Everything the extractor keeps for one account, device or IP prefix.</summary>
internal sealed class SubjectState
{
    public VoteCounter Counts = new();
    public RecentVotes Recent;
    public DistinctSet Accounts;
    public DistinctSet Prefixes;
    public DistinctSet Devices;
    public GroupTrail Group;
    public long LastSeenMs;

    public void Reset()
    {
        Counts.Reset();
        Recent.Reset();
        Accounts.Reset();
        Prefixes.Reset();
        Devices.Reset();
        Group.Reset();
        LastSeenMs = long.MinValue;
    }

    public void Record(long atMs, int candidate)
    {
        Counts.Add(atMs);
        Recent.Add(atMs, candidate);
        LastSeenMs = Math.Max(LastSeenMs, atMs);
    }
}
