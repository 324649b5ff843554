using System.Globalization;
using System.Text.RegularExpressions;
using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.Resiliency;

/// <summary>Thrown instead of running the operation while a circuit breaker is open (never retried, as in daprd).</summary>
public sealed class CircuitBreakerOpenException(string name) : Exception($"circuit breaker '{name}' is open");

/// <summary>
/// sony/gobreaker semantics as daprd uses them: closed (counts, reset every <c>interval</c> when &gt; 0) →
/// open when <c>trip</c> holds after a failure → half-open after <c>timeout</c>, letting <c>maxRequests</c>
/// through; that many successes close it, one failure opens it again.
/// </summary>
public sealed partial class CircuitBreaker
{
    private readonly Lock _lock = new();
    private readonly CircuitBreakerSpec _spec;
    private readonly TimeProvider _time;
    private readonly Func<Counts, bool> _trip;
    private State _state = State.Closed;
    private Counts _counts;
    private DateTimeOffset _expiry;

    public CircuitBreaker(CircuitBreakerSpec spec, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(time);
        _spec = spec;
        _time = time;
        _trip = ParseTrip(spec.Trip);
        ResetGeneration(time.GetUtcNow());
    }

    public enum State
    {
        Closed,
        HalfOpen,
        Open,
    }

    public string Name => _spec.Name;

    public State CurrentState
    {
        get
        {
            lock (_lock)
            {
                Advance(_time.GetUtcNow());
                return _state;
            }
        }
    }

    /// <summary>Throws <see cref="CircuitBreakerOpenException"/> when no request may pass now.</summary>
    public void BeforeRequest()
    {
        lock (_lock)
        {
            Advance(_time.GetUtcNow());
            if (_state == State.Open || (_state == State.HalfOpen && _counts.Requests >= Math.Max(1, _spec.MaxRequests)))
            {
                throw new CircuitBreakerOpenException(_spec.Name);
            }

            _counts.Requests++;
        }
    }

    public void OnSuccess()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            Advance(now);
            _counts.TotalSuccesses++;
            _counts.ConsecutiveSuccesses++;
            _counts.ConsecutiveFailures = 0;
            if (_state == State.HalfOpen && _counts.ConsecutiveSuccesses >= Math.Max(1, _spec.MaxRequests))
            {
                _state = State.Closed;
                ResetGeneration(now);
            }
        }
    }

    public void OnFailure()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            Advance(now);
            _counts.TotalFailures++;
            _counts.ConsecutiveFailures++;
            _counts.ConsecutiveSuccesses = 0;
            if (_state == State.HalfOpen || (_state == State.Closed && _trip(_counts)))
            {
                _state = State.Open;
                _counts = default;
                _expiry = now + _spec.Timeout;
            }
        }
    }

    /// <summary>Parses a trip condition "&lt;counter&gt; &lt;op&gt; &lt;n&gt;" (counters of §8.2; ops &gt;=, &gt;, ==, &lt;=, &lt;), joined by &amp;&amp; / ||.</summary>
    public static Func<Counts, bool> ParseTrip(string trip)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(trip);
        var ors = trip.Split("||", StringSplitOptions.TrimEntries);
        var any = new List<Func<Counts, bool>>();
        foreach (var or in ors)
        {
            var all = or.Split("&&", StringSplitOptions.TrimEntries).Select(ParseComparison).ToList();
            any.Add(c => all.TrueForAll(f => f(c)));
        }

        return c => any.Exists(f => f(c));
    }

    private static Func<Counts, bool> ParseComparison(string s)
    {
        var m = TripPattern().Match(s);
        if (!m.Success)
        {
            throw new ResourceException($"circuit breaker trip '{s}' is not supported: use e.g. 'consecutiveFailures >= 5' " +
                "(counters: requests, totalSuccesses, totalFailures, consecutiveSuccesses, consecutiveFailures)");
        }

        Func<Counts, long> counter = m.Groups[1].Value switch
        {
            "requests" => c => c.Requests,
            "totalSuccesses" => c => c.TotalSuccesses,
            "totalFailures" => c => c.TotalFailures,
            "consecutiveSuccesses" => c => c.ConsecutiveSuccesses,
            _ => c => c.ConsecutiveFailures,
        };
        var n = long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch
        {
            ">=" => c => counter(c) >= n,
            ">" => c => counter(c) > n,
            "==" => c => counter(c) == n,
            "<=" => c => counter(c) <= n,
            _ => c => counter(c) < n,
        };
    }

    private void Advance(DateTimeOffset now)
    {
        switch (_state)
        {
            case State.Closed when _spec.Interval > TimeSpan.Zero && now >= _expiry:
                ResetGeneration(now);
                break;
            case State.Open when now >= _expiry:
                _state = State.HalfOpen;
                _counts = default;
                break;
            default:
                break;
        }
    }

    private void ResetGeneration(DateTimeOffset now)
    {
        _counts = default;
        _expiry = _spec.Interval > TimeSpan.Zero ? now + _spec.Interval : DateTimeOffset.MaxValue;
    }

    [GeneratedRegex(@"^\s*(requests|totalSuccesses|totalFailures|consecutiveSuccesses|consecutiveFailures)\s*(>=|>|==|<=|<)\s*(\d+)\s*$")]
    private static partial Regex TripPattern();

    public record struct Counts
    {
        public long Requests { get; set; }

        public long TotalSuccesses { get; set; }

        public long TotalFailures { get; set; }

        public long ConsecutiveSuccesses { get; set; }

        public long ConsecutiveFailures { get; set; }
    }
}
