namespace FanVote.Fraud.Core;

/// <summary>What the group features keep about one account (inside its <see cref="SubjectState"/>): its last episodes.</summary>
internal struct GroupTrail
{
    public long LastVoteMs;
    public int Episodes;
    public long Fine0;
    public long Fine1;
    public long Fine2;
    public long Coarse0;
    public long Coarse1;
    public long Coarse2;
    public ulong PairKey;
    public ulong FineKey;
    public ulong FineKey1;
    public ulong CoarseKey;
    public ulong CoarseKey1;
    public float Lockstep;
    public float LockstepCoarse;
    public float Pair;
    public float Cohort;
    public float Crowd;
    public long CohortEpoch;
    public GroupRoster? Roster;

    public void Reset()
    {
        this = default;
        LastVoteMs = long.MinValue;
        CohortEpoch = long.MinValue;
    }
}

/// <summary>
/// The accounts seen sharing one lockstep key (the same start buckets of their last three episodes, for the same
/// candidate): the members a group verdict challenges together. Kept only for keys at least
/// <see cref="GroupFeatures.MinRosterSize"/> accounts share, at most <see cref="GroupFeatures.MaxRosterMembers"/> members.
/// </summary>
public sealed class GroupRoster(ulong key)
{
    private readonly HashSet<string> _members = new(StringComparer.Ordinal);

    public ulong Key { get; } = key;

    public IReadOnlyCollection<string> Members => _members;

    internal long LastMs { get; set; }

    internal void Add(string account)
    {
        if (_members.Count < GroupFeatures.MaxRosterMembers)
        {
            _members.Add(account);
        }
    }

    internal bool Remove(string account) => _members.Remove(account);
}

/// <summary>
/// Features of the group an account acts with, not of the account alone (issue 14): organized farms spread their
/// accounts over devices and residential addresses so each looks like a fan, but the same accounts act in the same few
/// seconds round after round. An account's votes are cut into <b>episodes</b> (a new one after
/// <see cref="EpisodeGapMs"/> without a vote); each episode's start falls in a 2-second and an 8-second bucket. The
/// start buckets of its last three episodes (for the candidate of this vote) are its <b>lockstep key</b>; a
/// <see cref="GroupSketch"/> counts how many accounts formed each key, so <c>grp_lockstep</c> is "how many accounts
/// started their last three episodes in the same seconds as this one, for the same candidate". A crowd answering one
/// cue shares one bucket, seldom three in a row; a swarm shares every round. The count of the key formed one episode
/// earlier is read again at the next episode, when every member has had a round to form it, so a member early in a
/// round sees the whole group by the next. Also counted: the last two episodes (<c>grp_pair</c>, earlier but weaker),
/// episodes so far (<c>grp_episodes</c>), and accounts for the same candidate created in the same 2 minutes, more than a day
/// before (<c>grp_cohort</c>). The model reads the counts capped at 40 and the coarse and pair counts as
/// shares of the crowd (accounts starting an episode for the candidate in the same 8 seconds; <c>grp_lockstep_share</c>
/// is the fine count's share): by chance, crowds share keys in proportion to their size, and a show ten times bigger
/// than any in training must not look like a farm. Memory: the sketch (fixed) and rosters of keys with at least
/// <see cref="MinRosterSize"/> accounts (capped).
/// </summary>
internal sealed class GroupFeatures
{
    public const long EpisodeGapMs = 3_000;
    public const long FineBucketMs = 2_000;
    public const long CoarseBucketMs = 8_000;
    public const long CohortBucketMs = 120_000;
    public const int MinRosterSize = 8;
    public const float CountCap = 40;
    public const int MaxRosterMembers = 2_048;
    public const int MaxRosters = 50_000;
    private const ulong PairTag = 0x5041495200000000UL;
    private const ulong FineTag = 0x46494E4500000000UL;
    private const ulong CoarseTag = 0x434F525300000000UL;
    private const ulong CohortTag = 0x434F484F00000000UL;
    private const ulong CrowdTag = 0x43524F5700000000UL;

    private readonly GroupSketch _sketch;
    private readonly long _freshMs;
    private readonly Dictionary<ulong, GroupRoster> _rosters = [];
    private readonly List<ulong> _expired = [];
    private long _nextSweepMs = long.MinValue;

    /// <param name="sketchWidth">Counters per row of the sketch.</param>
    /// <param name="epoch">How long a key counts (this epoch and the one before).</param>
    /// <param name="freshMs">Accounts younger than this are fresh (<see cref="FeatureOptions.FreshAccountAge"/>): no cohort.</param>
    public GroupFeatures(int sketchWidth, TimeSpan epoch, long freshMs)
    {
        _sketch = new GroupSketch(sketchWidth, epoch);
        _freshMs = freshMs;
    }

    /// <summary>The roster of the last account extracted, when its lockstep key is shared widely enough to keep one.</summary>
    public GroupRoster? LastRoster { get; private set; }

    public void Extract(ref GroupTrail trail, string accountId, int candidate, long t, long createdMs, Span<float> f)
    {
        _sketch.Advance(t);
        SweepRosters(t);
        if (trail.LastVoteMs == long.MinValue || t - trail.LastVoteMs >= EpisodeGapMs)
        {
            StartEpisode(ref trail, accountId, candidate, t);
        }

        trail.LastVoteMs = Math.Max(trail.LastVoteMs, t);

        // The creation cohort: counted once while the count can still see it (current or previous epoch).
        // Only accounts that are no longer fresh: fans told on air to sign up and vote do that in the same minutes (the
        // fresh-account features cover those); a batch made days ago that now votes as one is the tell.
        var epoch = _sketch.EpochOf(t);
        if (t - createdMs < _freshMs)
        {
            trail.Cohort = 0;
        }
        else if (trail.CohortEpoch < epoch - 1)
        {
            trail.CohortEpoch = epoch;
            trail.Cohort = _sketch.Add(Key(CohortTag, candidate, createdMs / CohortBucketMs, 0, 0));
        }

        LastRoster = trail.Roster;
        // Counts capped, and shares of the crowd: by chance, accounts share keys in proportion to how many vote for the
        // candidate in those seconds, so past a few dozen the count says more about the show's size than about fraud
        // (a steady stream for one popular candidate shares 8-second keys by the hundred); a share does not grow with
        // the show. The roster is kept on the uncapped count.
        var crowd = Math.Max(1f, trail.Crowd);
        f[FeatureSchema.GrpLockstep] = Log(Math.Min(trail.Lockstep, CountCap));
        f[FeatureSchema.GrpLockstepCoarseShare] = Math.Min(2f, trail.LockstepCoarse / crowd);
        f[FeatureSchema.GrpPairShare] = Math.Min(2f, trail.Pair / crowd);
        f[FeatureSchema.GrpEpisodes] = Math.Min(trail.Episodes, 64);
        f[FeatureSchema.GrpCohort] = Log(Math.Min(trail.Cohort, CountCap));
        f[FeatureSchema.GrpLockstepShare] = Math.Min(2f, trail.Lockstep / crowd);
    }

    private void StartEpisode(ref GroupTrail trail, string accountId, int candidate, long t)
    {
        // Start times kept in half buckets, so each key can be read in two phases (bucket edges at 0 and at half a
        // bucket): a round that straddles one phase's edge sits inside the other's.
        trail.Fine2 = trail.Fine1;
        trail.Fine1 = trail.Fine0;
        trail.Fine0 = t / (FineBucketMs / 2);
        trail.Coarse2 = trail.Coarse1;
        trail.Coarse1 = trail.Coarse0;
        trail.Coarse0 = t / (CoarseBucketMs / 2);
        trail.Episodes = Math.Min(trail.Episodes + 1, 1_000);

        // How crowded this moment is for this candidate: accounts starting an episode in the same 8 seconds. A crowd
        // at a cue shares keys by chance in proportion to it; a swarm shares them whatever it is.
        trail.Crowd = _sketch.Add(Key(CrowdTag, candidate, Phase(trail.Coarse0, 0), 0, 0));
        if (trail.Episodes >= 2)
        {
            // The pair formed at the episode before is complete now: every member had a round to form it.
            var earlier = trail.PairKey == 0 ? 0 : _sketch.Estimate(trail.PairKey);
            trail.PairKey = Key(PairTag, candidate, Phase(trail.Fine1, 0), Phase(trail.Fine0, 0), 0);
            var now = _sketch.Add(trail.PairKey);
            trail.Pair = Math.Max(now, earlier);
        }

        if (trail.Episodes < 3)
        {
            return;
        }

        var (key, count) = (0UL, 0);
        trail.LockstepCoarse = 0;
        for (var phase = 0; phase < 2; phase++)
        {
            // The key formed at the episode before is complete now: read it again.
            ref var fineKey = ref phase == 0 ? ref trail.FineKey : ref trail.FineKey1;
            var previous = fineKey;
            var previousCount = previous == 0 ? 0 : _sketch.Estimate(previous);
            fineKey = Key(FineTag + (ulong)phase, candidate, Phase(trail.Fine2, phase), Phase(trail.Fine1, phase), Phase(trail.Fine0, phase));
            var now = _sketch.Add(fineKey);
            if (previousCount > count)
            {
                (key, count) = (previous, previousCount);
            }

            if (now > count)
            {
                (key, count) = (fineKey, now);
            }

            ref var coarseKey = ref phase == 0 ? ref trail.CoarseKey : ref trail.CoarseKey1;
            var previousCoarse = coarseKey == 0 ? 0 : _sketch.Estimate(coarseKey);
            coarseKey = Key(CoarseTag + (ulong)phase, candidate, Phase(trail.Coarse2, phase), Phase(trail.Coarse1, phase), Phase(trail.Coarse0, phase));
            trail.LockstepCoarse = Math.Max(trail.LockstepCoarse, Math.Max(_sketch.Add(coarseKey), previousCoarse));
        }

        trail.Lockstep = count;
        trail.Roster = count >= MinRosterSize ? Join(key, accountId, t) : null;
    }

    /// <summary>The bucket of a start kept in half buckets, with edges shifted by <paramref name="phase"/> half buckets.</summary>
    private static long Phase(long halfBuckets, int phase) => (halfBuckets + phase) >> 1;

    private GroupRoster? Join(ulong key, string accountId, long t)
    {
        if (!_rosters.TryGetValue(key, out var roster))
        {
            if (_rosters.Count >= MaxRosters)
            {
                return null;
            }

            roster = new GroupRoster(key);
            _rosters[key] = roster;
        }

        roster.LastMs = t;
        roster.Add(accountId);
        return roster;
    }

    /// <summary>A fan's erasure: the account leaves every roster.</summary>
    public void Forget(string accountId)
    {
        foreach (var roster in _rosters.Values)
        {
            roster.Remove(accountId);
        }
    }

    /// <summary>Once a minute of event time, drops rosters no member joined for two epochs (their keys are out of the sketch).</summary>
    private void SweepRosters(long t)
    {
        if (t < _nextSweepMs)
        {
            return;
        }

        _nextSweepMs = t + 60_000;
        var before = t - (2 * _sketch.EpochMs);
        _expired.Clear();
        foreach (var (key, roster) in _rosters)
        {
            if (roster.LastMs < before)
            {
                _expired.Add(key);
            }
        }

        foreach (var key in _expired)
        {
            _rosters.Remove(key);
        }
    }

    private static float Log(float count) => (float)Math.Log(1 + count);

    private static ulong Key(ulong tag, int candidate, long a, long b, long c)
    {
        var h = tag ^ (uint)candidate;
        h = (h ^ (ulong)a) * 0x100000001B3UL;
        h = (h ^ (h >> 29) ^ (ulong)b) * 0xBF58476D1CE4E5B9UL;
        h = (h ^ (h >> 31) ^ (ulong)c) * 0x94D049BB133111EBUL;
        h ^= h >> 32;
        return h == 0 ? 1 : h;
    }
}
