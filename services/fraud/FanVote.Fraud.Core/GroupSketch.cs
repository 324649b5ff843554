namespace FanVote.Fraud.Core;

/// <summary>
/// A count-min sketch of how many accounts added each key, over the current epoch and the one
/// before it: memory is fixed (<c>2 epochs × depth × width</c> 16-bit counters) however many accounts are active.
/// Each account adds a key at most once, so a count is a number of distinct accounts. Collisions only ever raise a
/// count; <see cref="Estimate"/> takes off the mean count a cell holds by chance (count-mean-min), so a busy stream
/// does not raise every fan's group size with it. Single-threaded, like the extractor that owns it.
/// </summary>
internal sealed class GroupSketch
{
    private const int Depth = 2;
    private readonly int _mask;
    private readonly long _epochMs;
    private ushort[] _current;
    private ushort[] _previous;
    private readonly long[] _currentSums = new long[Depth];
    private readonly long[] _previousSums = new long[Depth];
    private long _epoch = long.MinValue;

    public GroupSketch(int width, TimeSpan epoch)
    {
        if (width < 1024 || (width & (width - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "The sketch's width must be a power of two, at least 1024.");
        }

        _mask = width - 1;
        _epochMs = (long)epoch.TotalMilliseconds;
        _current = new ushort[Depth * width];
        _previous = new ushort[Depth * width];
    }

    public long EpochMs => _epochMs;

    /// <summary>The epoch <paramref name="nowMs"/> falls in (epochs are counted from the Unix epoch, on event time).</summary>
    public long EpochOf(long nowMs) => nowMs / _epochMs;

    /// <summary>Moves to the epoch of <paramref name="nowMs"/>: the one before it is kept, anything older is dropped.</summary>
    public void Advance(long nowMs)
    {
        var epoch = EpochOf(nowMs);
        if (epoch <= _epoch)
        {
            return;
        }

        if (epoch == _epoch + 1)
        {
            (_previous, _current) = (_current, _previous);
            _currentSums.CopyTo(_previousSums, 0);
        }
        else
        {
            Array.Clear(_previous);
            Array.Clear(_previousSums);
        }

        Array.Clear(_current);
        Array.Clear(_currentSums);
        _epoch = epoch;
    }

    /// <summary>Counts one more account for <paramref name="key"/>; returns the estimate after it.</summary>
    public int Add(ulong key)
    {
        Span<int> at = stackalloc int[Depth];
        Cells(key, at);
        for (var r = 0; r < Depth; r++)
        {
            if (_current[at[r]] < ushort.MaxValue)
            {
                _current[at[r]]++;
                _currentSums[r]++;
            }
        }

        return Estimate(at);
    }

    public int Estimate(ulong key)
    {
        Span<int> at = stackalloc int[Depth];
        Cells(key, at);
        return Estimate(at);
    }

    /// <summary>The key's cell in each row.</summary>
    private void Cells(ulong key, Span<int> at)
    {
        for (var r = 0; r < Depth; r++)
        {
            at[r] = (r * (_mask + 1)) + (int)(Mix(key, r) & (ulong)_mask);
        }
    }

    /// <summary>
    /// Count-mean-min: each row's cell less what the other keys put in an average cell of that row (an unbiased
    /// estimate per row), the rows averaged, never below 0 nor above the smallest cell.
    /// </summary>
    private int Estimate(ReadOnlySpan<int> at)
    {
        var width = _mask + 1;
        var sum = 0.0;
        var min = int.MaxValue;
        for (var r = 0; r < Depth; r++)
        {
            var cell = _current[at[r]] + _previous[at[r]];
            min = Math.Min(min, cell);
            sum += cell - ((double)(_currentSums[r] + _previousSums[r] - cell) / (width - 1));
        }

        return Math.Clamp((int)Math.Round(sum / Depth), 0, min);
    }

    /// <summary>SplitMix64's finalizer over the key and the row: independent enough positions for two rows.</summary>
    private static ulong Mix(ulong key, int row)
    {
        var z = key + (0x9E3779B97F4A7C15UL * (ulong)(row + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
