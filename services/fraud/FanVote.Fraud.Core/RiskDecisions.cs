using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Fraud.Core;

/// <summary>How scores turn into verdicts and flags.</summary>
public sealed record RiskPolicy
{
    /// <summary>Suspect votes of one subject within <see cref="SuspectWindow"/> before it gets a verdict (one is a fluke).</summary>
    public int MinSuspectVotes { get; init; } = 2;

    public TimeSpan SuspectWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a verdict stands (ingress forgets it then).</summary>
    public TimeSpan VerdictLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Votes accepted this soon after a verdict were in flight before ingress could apply it: they are flagged.</summary>
    public TimeSpan InFlightGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Suspect votes still arriving this long after a verdict mean ingress let the subject through (a passed
    /// challenge): the subject gets a new verdict.
    /// </summary>
    public TimeSpan ReissueAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The verdict number (within one unbroken run of verdicts) from which the action is Block, not Challenge.</summary>
    public int BlockFromVerdict { get; init; } = 3;

    /// <summary>Votes remembered per suspect subject before its verdict (the oldest are flagged first, the rest dropped).</summary>
    public int MaxPendingVotes { get; init; } = 256;

    /// <summary>
    /// Members of one lockstep group (<see cref="GroupRoster"/>) that must have cast a suspect vote named
    /// <see cref="RiskReasons.Lockstep"/> before the whole group is challenged together. More than one, so that one
    /// fan's odd vote never takes a room of fans with it.
    /// </summary>
    public int MinGroupSuspects { get; init; } = 3;
}

/// <summary>A verdict to publish. Times are event time (Unix ms): the vote that tipped it and when it lapses.</summary>
public sealed record RiskVerdict(
    string SubjectKind, string Subject, double Score, IReadOnlyList<string> Reasons, RiskAction Action, long IssuedAtMs, long ExpiresAtMs);

/// <summary>Votes of one subject in one window to flag for the audit.</summary>
public sealed record FlaggedVotes(string WindowId, string SubjectKind, string Subject, IReadOnlyList<string> Reasons, double Score, List<Guid> VoteIds);

/// <summary>What <see cref="RiskDecisions"/> decided for a batch of votes; reuse it across batches with <see cref="Clear"/>.</summary>
public sealed class RiskOutput
{
    private readonly Dictionary<(string Window, string Kind, string Subject), FlaggedVotes> _flags = [];

    public List<RiskVerdict> Verdicts { get; } = [];

    public IEnumerable<FlaggedVotes> Flags => _flags.Values;

    public int FlaggedCount { get; private set; }

    public void Clear()
    {
        Verdicts.Clear();
        _flags.Clear();
        FlaggedCount = 0;
    }

    internal void Flag(string window, string kind, string subject, IReadOnlyList<string> reasons, double score, Guid voteId)
    {
        if (!_flags.TryGetValue((window, kind, subject), out var group))
        {
            group = new FlaggedVotes(window, kind, subject, reasons, score, []);
            _flags[(window, kind, subject)] = group;
        }

        group.VoteIds.Add(voteId);
        FlaggedCount++;
    }
}

/// <summary>
/// Turns scored votes into verdicts and audit flags, on event time, single-threaded.
/// <list type="bullet">
/// <item>A vote is <b>suspect</b> when its score reaches the model's operating threshold. Its reasons
/// (<see cref="RiskReasons"/>) name the subject: the device for a device farm, else the account.</item>
/// <item>A subject gets a <b>verdict</b> (Challenge) once it has <see cref="RiskPolicy.MinSuspectVotes"/> suspect votes
/// within <see cref="RiskPolicy.SuspectWindow"/>. If suspect votes keep arriving later than
/// <see cref="RiskPolicy.ReissueAfter"/> after its verdict (it passed the challenge and carries on), it gets another;
/// from the <see cref="RiskPolicy.BlockFromVerdict"/>th one on the action is Block.</item>
/// <item><b>Flagged</b> for the audit: the subject's votes from its first suspect vote up to the verdict (the votes that
/// made it suspect, and what it cast meanwhile); its votes accepted within <see cref="RiskPolicy.InFlightGrace"/> after
/// the verdict (in flight before ingress could refuse them); and while the verdict stands, every further suspect vote
/// of it. A fan who passed the challenge and votes like a person is not flagged again.</item>
/// </list>
/// A suspect phase that never reaches a verdict is forgotten after <see cref="RiskPolicy.SuspectWindow"/>: nothing of
/// it is flagged.
/// </summary>
public sealed class RiskDecisions(RiskPolicy? policy = null)
{
    private readonly RiskPolicy _policy = policy ?? new RiskPolicy();
    private readonly Dictionary<string, Tracker> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tracker> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, GroupCase> _groups = [];
    private readonly List<string> _expired = [];
    private readonly List<ulong> _expiredGroups = [];
    private long _nextSweepMs = long.MinValue;

    /// <summary>Subjects under watch (suspect or with a verdict).</summary>
    public int Tracked => _accounts.Count + _devices.Count;

    /// <summary>Lockstep groups under watch (with a suspect member, or challenged).</summary>
    public int Groups => _groups.Count;

    /// <summary>A fan's erasure: drops the account's suspicion tracker; true when there was one.</summary>
    public bool Forget(string accountId)
    {
        foreach (var g in _groups.Values)
        {
            g.Suspects.Remove(accountId);
        }

        return _accounts.Remove(accountId);
    }

    /// <param name="vote">The vote, on event time.</param>
    /// <param name="features">Its features.</param>
    /// <param name="score">The model's score.</param>
    /// <param name="threshold">The model's operating threshold.</param>
    /// <param name="output">Where verdicts and flags go.</param>
    /// <param name="group">
    /// The lockstep group the account acts with (<see cref="VelocityFeatures.LastGroup"/>), or null. Once
    /// <see cref="RiskPolicy.MinGroupSuspects"/> of its members are suspect for acting in lockstep, every member gets a
    /// verdict at once (reason <see cref="RiskReasons.Lockstep"/>), and so does a member seen later.
    /// </param>
    public void Observe(in VoteInput vote, ReadOnlySpan<float> features, double score, double threshold, RiskOutput output, GroupRoster? group = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var t = vote.AcceptedAtMs;
        Sweep(t);
        var suspect = score >= threshold;
        IReadOnlyList<string>? reasons = null;
        string? target = null;
        if (suspect)
        {
            reasons = RiskReasons.Explain(features);
            target = RiskReasons.SubjectKindFor(reasons);
        }

        if (group is not null)
        {
            ObserveGroup(group, vote, suspect && reasons!.Contains(RiskReasons.Lockstep), score, output);
        }

        Step(_accounts, RiskSubjects.Account, vote.AccountId, target == RiskSubjects.Account, suspect, reasons, score, vote, output);
        Step(_devices, RiskSubjects.Device, vote.DeviceId, target == RiskSubjects.Device, suspect, reasons, score, vote, output);
    }

    private void Step(
        Dictionary<string, Tracker> table, string kind, string subject, bool isTarget, bool suspect, IReadOnlyList<string>? reasons,
        double score, in VoteInput vote, RiskOutput output)
    {
        if (!table.TryGetValue(subject, out var tr))
        {
            if (!isTarget)
            {
                return;
            }

            tr = new Tracker(kind, subject);
            table[subject] = tr;
        }

        var t = vote.AcceptedAtMs;
        var window = (long)_policy.SuspectWindow.TotalMilliseconds;
        tr.LastActivityMs = Math.Max(tr.LastActivityMs, t);
        if (suspect)
        {
            tr.SuspectTimes.Enqueue(t);
            tr.MaxScore = Math.Max(tr.MaxScore, score);
            tr.Reasons = Merge(tr.Reasons, reasons!);
        }

        while (tr.SuspectTimes.Count > 0 && tr.SuspectTimes.Peek() <= t - window)
        {
            tr.SuspectTimes.Dequeue();
        }

        if (tr.VerdictExpiresMs > t)
        {
            var inFlight = t <= tr.VerdictIssuedMs + (long)_policy.InFlightGrace.TotalMilliseconds;
            if (inFlight || suspect)
            {
                output.Flag(vote.WindowId, kind, subject, tr.Reasons, tr.MaxScore, vote.VoteId);
            }

            if (suspect && !inFlight)
            {
                tr.SuspectsAfterVerdict++;
                if (tr.SuspectsAfterVerdict >= _policy.MinSuspectVotes && t - tr.VerdictIssuedMs >= (long)_policy.ReissueAfter.TotalMilliseconds)
                {
                    Issue(tr, t, output);
                }
            }

            return;
        }

        if (tr.SuspectTimes.Count == 0)
        {
            tr.Pending.Clear(); // the suspect phase lapsed (or this subject only had an old verdict)
            return;
        }

        if (tr.Pending.Count < _policy.MaxPendingVotes)
        {
            tr.Pending.Add((vote.VoteId, vote.WindowId));
        }

        if (tr.SuspectTimes.Count >= _policy.MinSuspectVotes)
        {
            IssueFlaggingPending(tr, t, output);
        }
    }

    private void ObserveGroup(GroupRoster group, in VoteInput vote, bool suspectInStep, double score, RiskOutput output)
    {
        var t = vote.AcceptedAtMs;
        if (!_groups.TryGetValue(group.Key, out var g))
        {
            if (!suspectInStep)
            {
                return;
            }

            g = new GroupCase();
            _groups[group.Key] = g;
        }

        g.LastMs = Math.Max(g.LastMs, t);
        if (suspectInStep)
        {
            g.Suspects.Add(vote.AccountId);
            g.MaxScore = Math.Max(g.MaxScore, score);
        }

        if (g.ChallengedUntilMs <= t && g.Suspects.Count < _policy.MinGroupSuspects)
        {
            return;
        }

        if (g.ChallengedUntilMs <= t)
        {
            g.ChallengedUntilMs = t + (long)_policy.VerdictLifetime.TotalMilliseconds;
            g.MembersChallenged = -1;
        }
        else if (g.MembersChallenged == group.Members.Count)
        {
            return; // nobody new on the roster since the group was challenged
        }

        g.MembersChallenged = group.Members.Count;

        // The group is challenged: every member without a verdict in force gets one now (those the roster gained since, too).
        foreach (var member in group.Members)
        {
            if (!_accounts.TryGetValue(member, out var tr))
            {
                tr = new Tracker(RiskSubjects.Account, member);
                _accounts[member] = tr;
            }

            if (tr.VerdictExpiresMs > t)
            {
                continue;
            }

            tr.LastActivityMs = Math.Max(tr.LastActivityMs, t);
            tr.MaxScore = Math.Max(tr.MaxScore, g.MaxScore);
            tr.Reasons = Merge(tr.Reasons, GroupReasons);
            IssueFlaggingPending(tr, t, output);
        }
    }

    private static readonly IReadOnlyList<string> GroupReasons = [RiskReasons.Lockstep];

    /// <summary>A verdict, and the subject's votes held since its first suspect one flagged with its reasons.</summary>
    private void IssueFlaggingPending(Tracker tr, long t, RiskOutput output)
    {
        Issue(tr, t, output);
        foreach (var (id, w) in tr.Pending)
        {
            output.Flag(w, tr.Kind, tr.Subject, tr.Reasons, tr.MaxScore, id);
        }

        tr.Pending.Clear();
    }

    private void Issue(Tracker tr, long t, RiskOutput output)
    {
        tr.VerdictsInRun = tr.VerdictExpiresMs > t ? tr.VerdictsInRun + 1 : 1;
        tr.VerdictIssuedMs = t;
        tr.VerdictExpiresMs = t + (long)_policy.VerdictLifetime.TotalMilliseconds;
        tr.SuspectsAfterVerdict = 0;
        var action = tr.VerdictsInRun >= _policy.BlockFromVerdict ? RiskAction.Block : RiskAction.Challenge;
        output.Verdicts.Add(new RiskVerdict(tr.Kind, tr.Subject, tr.MaxScore, tr.Reasons, action, t, tr.VerdictExpiresMs));
    }

    private static IReadOnlyList<string> Merge(IReadOnlyList<string> have, IReadOnlyList<string> add)
    {
        if (have.Count == 0 || (have.Count == 1 && have[0] == RiskReasons.Anomalous))
        {
            return add;
        }

        List<string>? merged = null;
        foreach (var r in add)
        {
            if (r != RiskReasons.Anomalous && !have.Contains(r))
            {
                merged ??= [.. have];
                merged.Add(r);
            }
        }

        return merged ?? have;
    }

    /// <summary>Once a minute of event time, forgets subjects with no verdict in force and no recent suspect vote.</summary>
    private void Sweep(long t)
    {
        if (t < _nextSweepMs)
        {
            return;
        }

        _nextSweepMs = t + 60_000;
        var window = (long)_policy.SuspectWindow.TotalMilliseconds;
        foreach (var table in new[] { _accounts, _devices })
        {
            _expired.Clear();
            foreach (var (key, tr) in table)
            {
                if (tr.VerdictExpiresMs <= t && tr.LastActivityMs <= t - window)
                {
                    _expired.Add(key);
                }
            }

            foreach (var key in _expired)
            {
                table.Remove(key);
            }
        }

        _expiredGroups.Clear();
        foreach (var (key, g) in _groups)
        {
            if (g.ChallengedUntilMs <= t && g.LastMs <= t - window)
            {
                _expiredGroups.Add(key);
            }
        }

        foreach (var key in _expiredGroups)
        {
            _groups.Remove(key);
        }
    }

    /// <summary>A lockstep group under watch: its members seen suspect in step, and until when it stands challenged.</summary>
    private sealed class GroupCase
    {
        public HashSet<string> Suspects { get; } = new(StringComparer.Ordinal);

        public double MaxScore { get; set; } = double.MinValue;

        public long LastMs { get; set; } = long.MinValue;

        public long ChallengedUntilMs { get; set; } = long.MinValue;

        public int MembersChallenged { get; set; } = -1;
    }

    private sealed class Tracker(string kind, string subject)
    {
        public string Kind { get; } = kind;

        public string Subject { get; } = subject;

        public Queue<long> SuspectTimes { get; } = new();

        public List<(Guid VoteId, string WindowId)> Pending { get; } = [];

        public IReadOnlyList<string> Reasons { get; set; } = [];

        public double MaxScore { get; set; } = double.MinValue;

        public long LastActivityMs { get; set; } = long.MinValue;

        public long VerdictIssuedMs { get; set; } = long.MinValue;

        public long VerdictExpiresMs { get; set; } = long.MinValue;

        public int VerdictsInRun { get; set; }

        public int SuspectsAfterVerdict { get; set; }
    }
}
