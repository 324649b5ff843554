using FanVote.Fraud.Core;

namespace FanVote.FraudModel.Trainer;

/// <summary>
/// What `generate` makes. Every count of groups scales with <see cref="Fans"/> / 20,000 (at least one group each).
/// The defaults describe one 30-minute window of a show with six candidates.
/// </summary>
public sealed record GeneratorOptions
{
    /// <summary>Seed of every random choice: the same seed and options give the same file, byte for byte.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Ordinary fans (<c>--size</c>); everything else scales with it.</summary>
    public int Fans { get; init; } = 20_000;

    public int WindowMinutes { get; init; } = 30;

    public int Candidates { get; init; } = 6;

    /// <summary>Votes one account may cast in the window (ingress's quota).</summary>
    public int VotesPerAccount { get; init; } = 50;

    /// <summary>Coordinated real fan campaigns (the hard negative), each <see cref="CampaignShare"/> of <see cref="Fans"/> strong.</summary>
    public int Campaigns { get; init; } = 2;

    public double CampaignShare { get; init; } = 0.15;

    /// <summary>Groups per attack family at 20,000 fans.</summary>
    public int AttackGroups { get; init; } = 3;

    public DateTimeOffset Start { get; init; } = new(2026, 6, 1, 19, 0, 0, TimeSpan.Zero);
}

/// <summary>
/// Synthetic, labelled votes of one window: ordinary fans, coordinated fan campaigns (legitimate, and built to look as
/// much like an attack as real ones do), and six attack families. See ml-models/README.md for what each family does and
/// what makes it hard or easy to catch.
/// </summary>
public sealed class Generator
{
    private readonly GeneratorOptions _o;
    private readonly Random _rng;
    private readonly List<LabelledVote> _votes = [];
    private readonly string[] _candidates;
    private readonly double[] _popularity;
    private readonly long _startMs;
    private readonly long _endMs;
    private readonly string _window;
    private readonly double _scale;

    public Generator(GeneratorOptions options)
    {
        _o = options ?? throw new ArgumentNullException(nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_o.Fans, 100, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_o.WindowMinutes, 10, nameof(options));
        _rng = new Random(_o.Seed);
        _candidates = [.. Enumerable.Range(1, _o.Candidates).Select(i => $"cand-{i}")];
        _popularity = [.. Enumerable.Range(0, _o.Candidates).Select(i => 1.0 / (i + 1))];
        _startMs = _o.Start.ToUnixTimeMilliseconds();
        _endMs = _startMs + (_o.WindowMinutes * 60_000L);
        _window = $"show-{_o.Start:yyyyMMdd}-s{_o.Seed}";
        _scale = _o.Fans / 20_000.0;
    }

    /// <summary>Votes per family, for the summary `generate` prints.</summary>
    public Dictionary<string, (int Votes, bool Fraud)> Families { get; } = [];

    /// <summary>The family of every vote (for `--families`: per-family recall in `evaluate`).</summary>
    public Dictionary<Guid, string> FamilyOf { get; } = [];

    /// <summary>Every vote, in accepted_at order.</summary>
    public IReadOnlyList<LabelledVote> Generate()
    {
        OrdinaryFans();
        for (var c = 0; c < _o.Campaigns; c++)
        {
            Campaign(c);
        }

        CampaignAcrossCues(segment: false);
        CampaignAcrossCues(segment: true);
        for (var p = Math.Max(1, (int)Math.Round(3 * _scale)); p > 0; p--)
        {
            ViewingParty();
        }

        FamilyPhones();
        QuotaFans();

        var groups = Math.Max(1, (int)Math.Round(_o.AttackGroups * _scale));
        for (var g = 0; g < groups; g++)
        {
            DeviceFarm();
            MetronomeBots();
            MetronomeBots();
            SlowDrip();
            FreshAccountBurst();
            DeviceRotation();
            CaptchaFarm();
            LockstepSwarm(jittered: false);
            LockstepSwarm(jittered: true);
            CreatedCohort();
            SwarmBehindProxies();
        }

        return [.. _votes.OrderBy(v => v.Vote.AcceptedAtMs).ThenBy(v => v.Vote.VoteId)];
    }

    // ---- legitimate -------------------------------------------------------------------------------------------

    /// <summary>
    /// Fans voting on their own: a few votes each (5% are power fans with up to 30), human gaps (log-normal, median
    /// 4 s), many starting right after the host's "vote now" cues; on their phone (carrier-grade NAT prefixes shared
    /// with thousands), home broadband (v4 or v6); 10% switch network once; 4% share a family device; 3% signed up
    /// minutes before voting.
    /// </summary>
    private void OrdinaryFans()
    {
        string? lastDevice = null;
        long[] cues = [_startMs + 120_000, _startMs + 600_000, _startMs + 1_200_000];
        for (var i = 0; i < _o.Fans; i++)
        {
            var account = Id("acc");
            var device = lastDevice is not null && _rng.NextDouble() < 0.04 ? lastDevice : Id("dev");
            lastDevice = device;
            var start = _rng.NextDouble() < 0.4 ? cues[_rng.Next(cues.Length)] + Exp(60_000) : Uniform(_startMs, _endMs - 60_000);
            var power = _rng.NextDouble() < 0.05;
            var votes = power ? _rng.Next(10, 31) : 1 + Geometric(0.35);
            var created = OrdinaryCreatedAt(start);
            var network = HomeOrMobile();
            var other = HomeOrMobile();
            var switchAt = _rng.NextDouble() < 0.1 ? _rng.Next(1, Math.Max(2, votes)) : int.MaxValue;
            var favourite = Popular();
            var t = start;
            for (var k = 0; k < Math.Min(votes, _o.VotesPerAccount) && t < _endMs; k++)
            {
                var candidate = _rng.NextDouble() < 0.85 ? favourite : _candidates[_rng.Next(_candidates.Length)];
                Add("ordinary", false, candidate, account, device, (k >= switchAt ? other : network).Next(), t, created);
                t += Math.Max(400, (long)LogNormal(power ? 30_000 : 4_000, 0.9));
            }
        }
    }

    /// <summary>
    /// The hard negative: a fandom told to vote for one candidate at one moment. Thousands of genuine fans start
    /// within seconds of the cue and tap as fast as they can (5-20 votes, median gap 1.2 s, each fan with their own
    /// rhythm, some quite steady); half on carrier NAT, a quarter at viewing parties (one venue Wi-Fi prefix for
    /// hundreds of fans, all for the same candidate), the rest at home; 8% signed up seconds to an hour before, 12% days before;
    /// 6% pass one phone between two or three friends.
    /// </summary>
    private void Campaign(int index)
    {
        var fans = (int)(_o.Fans * _o.CampaignShare);
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var cue = _startMs + (long)((0.2 + (0.5 * index / Math.Max(1, _o.Campaigns))) * (_endMs - _startMs));
        var venues = Enumerable.Range(0, _rng.Next(2, 5)).Select(_ => Network.Venue(this)).ToArray();
        string? shared = null;
        var sharedLeft = 0;
        for (var i = 0; i < fans; i++)
        {
            var account = Id("acc");
            string device;
            if (sharedLeft > 0)
            {
                device = shared!;
                sharedLeft--;
            }
            else
            {
                device = Id("dev");
                if (_rng.NextDouble() < 0.06)
                {
                    shared = device;
                    sharedLeft = _rng.Next(1, 3);
                }
            }

            var start = cue + Exp(20_000);
            var roll = _rng.NextDouble();
            var created = roll < 0.08 ? start - Uniform(5_000, 3_600_000) : roll < 0.2 ? start - Uniform(86_400_000, 14 * 86_400_000L) : OldAccount(start);
            var where = _rng.NextDouble();
            var network = where < 0.5 ? Network.Carrier(this) : where < 0.75 ? venues[_rng.Next(venues.Length)] : Network.Home(this);
            var sigma = 0.25 + (_rng.NextDouble() * 0.35);
            var votes = Math.Min(_rng.Next(5, 21), _o.VotesPerAccount);
            var t = start;
            for (var k = 0; k < votes && t < _endMs; k++)
            {
                Add("campaign", false, candidate, account, device, network.Next(), t, created);
                t += Math.Max(250, (long)LogNormal(1_200, sigma));
            }
        }
    }

    /// <summary>
    /// The hard negative for the group features: a fandom that answers every cue of the show, so the same fans act
    /// together again and again. Two fandoms of 6% of the fans, one candidate each: one answers 4-6 cues over the window
    /// (each fan starting within seconds of a cue: exponential, mean 15 s), the other a "vote now!" segment of 3-6 cues 10-30 s apart
    /// answered within a mean of 3-15 s; each fan joins each cue with probability 0.75 and taps 2-8 times (median gap 1.5 s);
    /// networks and account ages as in a campaign.
    /// </summary>
    private void CampaignAcrossCues(bool segment)
    {
        var fans = (int)(_o.Fans * 0.06);
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        long[] cues;
        double spread;
        if (!segment)
        {
            cues = [.. Enumerable.Range(0, _rng.Next(4, 7)).Select(_ => Uniform(_startMs + 60_000, _endMs - 90_000)).Order()];
            spread = 15_000;
        }
        else
        {
            // A "vote now!" segment: the host repeats the cue every 10-30 s and the fandom answers each one at once.
            var at = Uniform(_startMs + 60_000, _endMs - 300_000);
            cues = [.. Enumerable.Range(0, _rng.Next(3, 7)).Select(_ => at += Uniform(10_000, 30_000))];
            spread = Uniform(3_000.0, 15_000.0);
        }

        var venues = Enumerable.Range(0, _rng.Next(2, 5)).Select(_ => Network.Venue(this)).ToArray();
        for (var i = 0; i < fans; i++)
        {
            var account = Id("acc");
            var device = Id("dev");
            var roll = _rng.NextDouble();
            var created = roll < 0.08 ? cues[0] - Uniform(5_000, 3_600_000) : roll < 0.2 ? cues[0] - Uniform(86_400_000, 14 * 86_400_000L) : OldAccount(cues[0]);
            var where = _rng.NextDouble();
            var network = where < 0.5 ? Network.Carrier(this) : where < 0.75 ? venues[_rng.Next(venues.Length)] : Network.Home(this);
            var sigma = 0.25 + (_rng.NextDouble() * 0.35);
            foreach (var cue in cues)
            {
                if (_rng.NextDouble() >= 0.75)
                {
                    continue;
                }

                var t = cue + Exp(spread);
                for (var k = _rng.Next(2, 9); k > 0; k--)
                {
                    Add("campaign-cues", false, candidate, account, device, network.Next(), t, created);
                    t += Math.Max(250, (long)LogNormal(1_500, sigma));
                }
            }
        }
    }

    /// <summary>
    /// A viewing party: 30-250 fans in one room on the venue's Wi-Fi (one prefix), all for one candidate, who vote
    /// when the host on screen (or the loudest friend) says so: at each of 4-8 moments every fan starts within a few
    /// seconds (exponential, mean 3-6 s for the room), 1-4 taps (median gap 1.5 s); one in ten shares a phone with the
    /// fan next to them; a fifth signed up at the party. The tightest legitimate lockstep there is: the same people,
    /// the same seconds, several rounds. What differs from a swarm: few rounds, at the show's moments, and a looser
    /// spread.
    /// </summary>
    private void ViewingParty()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var venue = Network.Venue(this);
        var moments = Enumerable.Range(0, _rng.Next(4, 9)).Select(_ => Uniform(_startMs + 60_000, _endMs - 60_000)).Order().ToArray();
        var spread = Uniform(3_000.0, 6_000.0);
        string? lastDevice = null;
        for (var f = _rng.Next(30, 251); f > 0; f--)
        {
            var account = Id("acc");
            var device = lastDevice is not null && _rng.NextDouble() < 0.1 ? lastDevice : Id("dev");
            lastDevice = device;
            var created = _rng.NextDouble() < 0.2 ? moments[0] - Uniform(60_000, 3_600_000) : OldAccount(moments[0]);
            foreach (var moment in moments)
            {
                var t = moment + Exp(spread);
                for (var k = _rng.Next(1, 5); k > 0; k--)
                {
                    Add("viewing-party", false, candidate, account, device, venue.Next(), t, created);
                    t += Math.Max(300, (long)LogNormal(1_500, 0.5));
                }
            }
        }
    }

    /// <summary>
    /// Households sharing one phone and one home line: 2-4 accounts (made together when the family signed up, often
    /// the same day), voting one after the other after a cue, 1-5 votes each, often for the same candidate.
    /// 1.5% of the fans' number of households.
    /// </summary>
    private void FamilyPhones()
    {
        long[] cues = [_startMs + 120_000, _startMs + 600_000, _startMs + 1_200_000];
        for (var h = (int)(_o.Fans * 0.015); h > 0; h--)
        {
            var device = Id("dev");
            var network = Network.Home(this);
            var t = cues[_rng.Next(cues.Length)] + Exp(90_000);
            var signedUp = OldAccount(t);
            var favourite = Popular();
            for (var a = _rng.Next(2, 5); a > 0; a--)
            {
                var account = Id("acc");
                var created = signedUp + Uniform(0, 600_000);
                var candidate = _rng.NextDouble() < 0.7 ? favourite : _candidates[_rng.Next(_candidates.Length)];
                for (var k = _rng.Next(1, 6); k > 0; k--)
                {
                    Add("family-phones", false, candidate, account, device, network.Next(), t, created);
                    t += Math.Max(500, (long)LogNormal(3_000, 0.7));
                }

                t += (long)Uniform(5_000, 40_000); // hands the phone on
            }
        }
    }

    /// <summary>
    /// Devoted fans who use their whole quota: 10% of the fans' number, all for the same favourite (one candidate's
    /// fandom), each voting again every 20-60 s (log-normal, their own pace) for most of the window, on carrier NAT or
    /// at home. A steady, dense stream for one candidate from the same networks, minute after minute: what a popular
    /// contestant's fandom looks like when it means it. (Added after the bench's background stream of this shape drew
    /// verdicts from a model trained without it.)
    /// </summary>
    private void QuotaFans()
    {
        var candidate = _candidates[0];
        for (var i = (int)(_o.Fans * 0.10); i > 0; i--)
        {
            var account = Id("acc");
            var device = Id("dev");
            var network = HomeOrMobile();
            var t = Uniform(_startMs, _startMs + 300_000);
            var created = OldAccount(t) - (long)Uniform(0, 86_400_000);
            var pace = Uniform(20_000.0, 60_000.0);
            for (var k = 0; k < _o.VotesPerAccount && t < _endMs; k++)
            {
                Add("quota-fans", false, candidate, account, device, network.Next(), t, created);
                t += Math.Max(2_000, (long)LogNormal(pace, 0.3));
            }
        }
    }

    // ---- attacks ------------------------------------------------------------------------------------------------

    /// <summary>
    /// One to three phones, each cycling through 40-200 accounts (mostly freshly made, some bought), 1-5 votes per
    /// account, as fast as the per-device rate limit lets it (5-15 votes/s, irregular), all for one candidate, from the
    /// phone's own home or mobile prefix.
    /// </summary>
    private void DeviceFarm()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var start = Uniform(_startMs, _endMs - 600_000);
        for (var d = _rng.Next(1, 4); d > 0; d--)
        {
            var device = Id("dev");
            var network = HomeOrMobile();
            var accounts = _rng.Next(40, 201);
            var t = start + Uniform(0, 60_000);
            for (var a = 0; a < accounts; a++)
            {
                var account = Id("acc");
                var created = _rng.NextDouble() < 0.7 ? t - Uniform(300_000, 3 * 86_400_000L) : OldAccount(t);
                for (var k = _rng.Next(1, 6); k > 0 && t < _endMs; k--)
                {
                    Add("device-farm", true, candidate, account, device, network.Next(), t, created);
                    t += (long)Uniform(65, 200);
                }
            }
        }
    }

    /// <summary>
    /// 1-40 bots (own device and account each: bought aged accounts, or fresh ones) voting for one candidate every I
    /// seconds (0.3-8 s per group), with only network and server jitter (2-60 ms, as ingress's timestamps see it), 15-50
    /// votes each; a third of the groups sit in two or three data-centre prefixes, a third behind residential proxies
    /// (one home prefix per bot), a third on a SIM farm (carrier NAT, like everybody's phone). Only the rhythm is common
    /// to all of them.
    /// </summary>
    private void MetronomeBots()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var interval = Math.Exp(Uniform(Math.Log(300), Math.Log(8_000)));
        var jitter = Uniform(2, 60);
        var start = Uniform(_startMs, _endMs - 600_000);
        var where = _rng.Next(3);
        var dc = Enumerable.Range(0, _rng.Next(2, 4)).Select(_ => Network.Datacentre(this)).ToArray();
        var fresh = _rng.NextDouble() < 0.4;
        for (var b = _rng.Next(1, 41); b > 0; b--)
        {
            var account = Id("acc");
            var device = Id("dev");
            var network = where switch { 0 => dc[_rng.Next(dc.Length)], 1 => Network.Home(this), _ => Network.Carrier(this) };
            var created = fresh ? start - Uniform(600_000, 3 * 86_400_000L) : OldAccount(start);
            var t = start + (long)Uniform(0, interval);
            for (var k = Math.Min(_rng.Next(15, 51), _o.VotesPerAccount); k > 0 && t < _endMs; k--)
            {
                Add("metronome", true, candidate, account, device, network.Next(), t, created);
                t += (long)Math.Max(1, interval + (Normal() * jitter));
            }
        }
    }

    /// <summary>
    /// 20-80 aged accounts, each voting for one candidate every 15-60 s (±30%), every vote through a different
    /// residential proxy prefix: slow enough for any rate limit, spread over the whole window.
    /// </summary>
    private void SlowDrip()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        for (var a = _rng.Next(20, 81); a > 0; a--)
        {
            var account = Id("acc");
            var device = Id("dev");
            var gap = Uniform(15_000, 60_000);
            var t = Uniform(_startMs, _endMs - 300_000);
            var created = OldAccount(t);
            for (var k = _rng.Next(10, 31); k > 0 && t < _endMs; k--)
            {
                Add("slow-drip", true, candidate, account, device, Network.Home(this).Next(), t, created);
                t += (long)(gap * Uniform(0.7, 1.3));
            }
        }
    }

    /// <summary>
    /// 100-400 accounts created up to 30 minutes before a two-minute burst, each on its own (spoofed) device id, 1-4 votes
    /// with human-like gaps, all for one candidate, from 3-12 proxy prefixes.
    /// </summary>
    private void FreshAccountBurst()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var start = Uniform(_startMs + 60_000, _endMs - 180_000);
        var proxies = Enumerable.Range(0, _rng.Next(3, 13)).Select(_ => Network.Datacentre(this)).ToArray();
        for (var a = _rng.Next(100, 401); a > 0; a--)
        {
            var account = Id("acc");
            var device = Id("dev");
            var t = start + Uniform(0, 120_000);
            var created = start - Uniform(10_000, 1_800_000);
            var network = proxies[_rng.Next(proxies.Length)];
            for (var k = _rng.Next(1, 5); k > 0 && t < _endMs; k--)
            {
                Add("fresh-burst", true, candidate, account, device, network.Next(), t, created);
                t += Math.Max(300, (long)LogNormal(2_000, 0.6));
            }
        }
    }

    /// <summary>
    /// 30-100 accounts that send a new device id with every vote (an emulator resetting its id to dodge per-device
    /// limits), 5-15 votes each for one candidate, from 2-5 prefixes.
    /// </summary>
    private void DeviceRotation()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var prefixes = Enumerable.Range(0, _rng.Next(2, 6)).Select(_ => Network.Home(this)).ToArray();
        var start = Uniform(_startMs, _endMs - 300_000);
        for (var a = _rng.Next(30, 101); a > 0; a--)
        {
            var account = Id("acc");
            var t = start + Uniform(0, 120_000);
            var created = _rng.NextDouble() < 0.5 ? t - Uniform(600_000, 5 * 86_400_000L) : OldAccount(t);
            var network = prefixes[_rng.Next(prefixes.Length)];
            for (var k = _rng.Next(5, 16); k > 0 && t < _endMs; k--)
            {
                Add("device-rotation", true, candidate, account, Id("dev"), network.Next(), t, created);
                t += Math.Max(300, (long)LogNormal(5_000, 0.7));
            }
        }
    }

    /// <summary>
    /// The subtle one: 50-150 aged accounts, each on its own device and its own residential proxy, voting 5-15 times
    /// for one candidate with humanised gaps (median 6 s, but steadier than people: log-normal sigma 0.12), all
    /// within a few minutes. Nothing but the group's rhythm and its single-mindedness gives it away.
    /// </summary>
    private void CaptchaFarm()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var start = Uniform(_startMs, _endMs - 600_000);
        for (var a = _rng.Next(50, 151); a > 0; a--)
        {
            var account = Id("acc");
            var device = Id("dev");
            var network = Network.Home(this);
            var t = start + Uniform(0, 180_000);
            var created = OldAccount(t);
            for (var k = _rng.Next(5, 16); k > 0 && t < _endMs; k--)
            {
                Add("humanised-bots", true, candidate, account, device, network.Next(), t, created);
                t += (long)LogNormal(6_000, 0.12);
            }
        }
    }

    /// <summary>
    /// A lockstep swarm: 12-300 accounts (bought aged ones, or made days before), each on its own device and its own
    /// residential proxy (a third on a SIM farm's carrier NAT), human-looking one by one: 1-3 taps per round with
    /// human gaps. What gives it away is the group: every 6-90 s a round starts and every member acts in it, each at
    /// its own fixed offset within 0.2-1.5 s of the round's start plus a little network jitter, for 6-20 rounds; 5%
    /// of the time a member misses a round. <paramref name="jittered"/>: each member also adds a fresh random delay of
    /// 0 to 2-6 s to every round, to blur the lockstep.
    /// </summary>
    private void LockstepSwarm(bool jittered)
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var size = (int)Math.Exp(Uniform(Math.Log(12), Math.Log(300)));
        var interval = Math.Exp(Uniform(Math.Log(6_000), Math.Log(90_000)));
        var rounds = _rng.Next(6, 21);
        var spread = Uniform(200.0, 1_500.0);
        var delay = jittered ? Uniform(2_000.0, 6_000.0) : 0;
        var start = Uniform(_startMs, Math.Max(_startMs + 1, _endMs - (long)(interval * rounds)));
        var aged = _rng.NextDouble() < 0.6;
        var simFarm = _rng.NextDouble() < 0.33;
        for (var m = 0; m < size; m++)
        {
            var account = Id("acc");
            var device = Id("dev");
            var network = simFarm ? Network.Carrier(this) : Network.Home(this);
            var created = aged ? OldAccount(start) : start - Uniform(2 * 86_400_000L, 20 * 86_400_000L);
            var offset = Uniform(0, spread);
            for (var r = 0; r < rounds; r++)
            {
                if (_rng.NextDouble() < 0.05)
                {
                    continue;
                }

                var t = start + (long)((r * interval) + offset + Math.Abs(Normal() * 120) + (delay * _rng.NextDouble()));
                for (var k = _rng.NextDouble() < 0.7 ? 1 : _rng.Next(2, 4); k > 0; k--)
                {
                    Add(jittered ? "lockstep-jittered" : "lockstep-swarm", true, candidate, account, device, network.Next(), t, created);
                    t += Math.Max(400, (long)LogNormal(1_500, 0.5));
                }
            }
        }
    }

    /// <summary>
    /// A cohort made together: 60-300 accounts registered by one script within 1-5 minutes, 2-30 days before the
    /// show, each on its own device and residential line, voting 3-12 times for one candidate with human gaps
    /// (median 5 s), starting at scattered moments over ten minutes: no lockstep, only the birth date in common.
    /// </summary>
    private void CreatedCohort()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var start = Uniform(_startMs, _endMs - 900_000);
        var born = start - Uniform(2 * 86_400_000L, 30 * 86_400_000L);
        var over = Uniform(60_000, 300_000);
        for (var a = _rng.Next(60, 301); a > 0; a--)
        {
            var account = Id("acc");
            var device = Id("dev");
            var network = Network.Home(this);
            var created = born + Uniform(0, over);
            var t = start + Uniform(0, 600_000);
            for (var k = _rng.Next(3, 13); k > 0 && t < _endMs; k--)
            {
                Add("created-cohort", true, candidate, account, device, network.Next(), t, created);
                t += Math.Max(400, (long)LogNormal(5_000, 0.7));
            }
        }
    }

    /// <summary>
    /// A swarm mixed with other tricks: 20-150 accounts in lockstep rounds (every 8-40 s, within 1 s) behind 2-6
    /// data-centre proxy prefixes they share, half of the swarms with accounts made together the day before, and
    /// each member sending a new device id every few rounds.
    /// </summary>
    private void SwarmBehindProxies()
    {
        var candidate = _candidates[_rng.Next(_candidates.Length)];
        var interval = Uniform(8_000.0, 40_000.0);
        var rounds = _rng.Next(6, 16);
        var start = Uniform(_startMs, Math.Max(_startMs + 1, _endMs - (long)(interval * rounds)));
        var proxies = Enumerable.Range(0, _rng.Next(2, 7)).Select(_ => Network.Datacentre(this)).ToArray();
        var together = _rng.NextDouble() < 0.5;
        var born = start - Uniform(86_400_000, 2 * 86_400_000L);
        for (var m = _rng.Next(20, 151); m > 0; m--)
        {
            var account = Id("acc");
            var device = Id("dev");
            var network = proxies[_rng.Next(proxies.Length)];
            var created = together ? born + Uniform(0, 300_000) : OldAccount(start);
            var offset = Uniform(0, 1_000);
            for (var r = 0; r < rounds; r++)
            {
                if (_rng.NextDouble() < 0.3)
                {
                    device = Id("dev");
                }

                var t = start + (long)((r * interval) + offset + Math.Abs(Normal() * 100));
                Add("swarm-mixed", true, candidate, account, device, network.Next(), t, created);
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private void Add(string family, bool fraud, string candidate, string account, string device, string ip, long t, long created)
    {
        if (t >= _endMs)
        {
            return;
        }

        Span<byte> b = stackalloc byte[16];
        _rng.NextBytes(b);
        var id = new Guid(b);
        _votes.Add(new LabelledVote(new VoteInput(id, _window, candidate, account, device, ip, t, Math.Min(created, t)), fraud));
        Families[family] = Families.TryGetValue(family, out var n) ? (n.Votes + 1, fraud) : (1, fraud);
        FamilyOf[id] = family;
    }

    private string Id(string prefix) => $"{prefix}-{_rng.NextInt64():x16}";

    private string Popular()
    {
        var total = _popularity.Sum();
        var x = _rng.NextDouble() * total;
        for (var i = 0; i < _popularity.Length; i++)
        {
            x -= _popularity[i];
            if (x <= 0)
            {
                return _candidates[i];
            }
        }

        return _candidates[^1];
    }

    private long OrdinaryCreatedAt(long firstVote)
    {
        var roll = _rng.NextDouble();
        return roll < 0.03 ? firstVote - Uniform(5_000, 7_200_000)
            : roll < 0.08 ? firstVote - Uniform(86_400_000, 7 * 86_400_000L)
            : OldAccount(firstVote);
    }

    private long OldAccount(long t) => t - (long)(Math.Exp(Uniform(Math.Log(7), Math.Log(1500))) * 86_400_000);

    private Network HomeOrMobile() => _rng.NextDouble() < 0.5 ? Network.Carrier(this) : Network.Home(this);

    private long Uniform(long lo, long hi) => lo + (long)(_rng.NextDouble() * (hi - lo));

    private double Uniform(double lo, double hi) => lo + (_rng.NextDouble() * (hi - lo));

    private long Exp(double mean) => (long)(-mean * Math.Log(1 - _rng.NextDouble()));

    private int Geometric(double p) => (int)Math.Floor(Math.Log(1 - _rng.NextDouble()) / Math.Log(1 - p));

    private double Normal() => Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble());

    private double LogNormal(double median, double sigma) => median * Math.Exp(sigma * Normal());

    /// <summary>Where a client's votes come from: addresses drawn inside one or a few prefixes.</summary>
    private sealed class Network
    {
        private readonly Generator _g;
        private readonly string[] _prefixes;
        private readonly bool _v6;
        private readonly double _stickiness;
        private int _current;

        private Network(Generator g, string[] prefixes, bool v6, double stickiness)
        {
            _g = g;
            _prefixes = prefixes;
            _v6 = v6;
            _stickiness = stickiness;
        }

        /// <summary>A mobile carrier's NAT pool: 12 carriers with 4 public /24s each, shared by every subscriber.</summary>
        public static Network Carrier(Generator g)
        {
            var carrier = g._rng.Next(12);
            return new Network(g, [.. Enumerable.Range(0, 4).Select(i => $"100.{64 + carrier}.{i * 17}")], false, 0.85);
        }

        /// <summary>A home line: one v4 /24 (from a large space) or, for one in four, one v6 /48.</summary>
        public static Network Home(Generator g) =>
            g._rng.NextDouble() < 0.25
                ? new Network(g, [$"2001:db8:{g._rng.Next(1, 65535):x}"], true, 1)
                : new Network(g, [$"{g._rng.Next(1, 224)}.{g._rng.Next(256)}.{g._rng.Next(256)}"], false, 1);

        /// <summary>A venue's Wi-Fi: one /24 for everybody there.</summary>
        public static Network Venue(Generator g) => new(g, [$"{g._rng.Next(1, 224)}.{g._rng.Next(256)}.{g._rng.Next(256)}"], false, 1);

        /// <summary>A data-centre (or proxy provider) /24.</summary>
        public static Network Datacentre(Generator g) => new(g, [$"{g._rng.Next(34, 52)}.{g._rng.Next(256)}.{g._rng.Next(256)}"], false, 1);

        public string Next()
        {
            if (_prefixes.Length > 1 && _g._rng.NextDouble() > _stickiness)
            {
                _current = _g._rng.Next(_prefixes.Length);
            }

            return _v6
                ? $"{_prefixes[_current]}:{_g._rng.Next(65536):x}::{_g._rng.Next(1, 65535):x}"
                : $"{_prefixes[_current]}.{_g._rng.Next(1, 255)}";
        }
    }
}
