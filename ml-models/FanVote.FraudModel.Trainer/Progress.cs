using System.Diagnostics;

namespace FanVote.FraudModel.Trainer;

/// <summary>
/// A one-line progress bar on stderr (redrawn at most ten times a second); when stderr is not a terminal (CI, a test,
/// a pipe) it prints only the start and the end, so logs stay readable.
/// </summary>
internal sealed class Progress : IDisposable
{
    private const int Width = 30;
    private readonly string _label;
    private readonly long _total;
    private readonly TextWriter _err;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDrawMs = -1000;
    private long _done;

    public Progress(string label, long total, TextWriter err)
    {
        _label = label;
        _total = Math.Max(1, total);
        _err = err;
        _interactive = ReferenceEquals(err, Console.Error) && !Console.IsErrorRedirected;
        if (!_interactive)
        {
            _err.WriteLine($"{_label} ...");
        }
    }

    public void Report(long done)
    {
        _done = done;
        if (_interactive && _clock.ElapsedMilliseconds - _lastDrawMs >= 100)
        {
            _lastDrawMs = _clock.ElapsedMilliseconds;
            Draw();
        }
    }

    /// <summary>Runs <paramref name="work"/> showing elapsed time (for steps that report no progress of their own).</summary>
    public static T Run<T>(string label, TextWriter err, Func<T> work)
    {
        using var p = new Progress(label, 0, err);
        var task = Task.Run(work);
        while (!task.Wait(200))
        {
            p.Report(0);
        }

        return task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _done = _total;
        if (_interactive)
        {
            Draw();
            _err.WriteLine();
        }
        else
        {
            _err.WriteLine($"{_label}: done in {_clock.Elapsed.TotalSeconds:F1} s");
        }
    }

    private void Draw()
    {
        if (_total <= 1)
        {
            _err.Write($"\r{_label} {_clock.Elapsed.TotalSeconds,6:F1} s");
            return;
        }

        var fraction = Math.Clamp((double)_done / _total, 0, 1);
        var filled = (int)(fraction * Width);
        _err.Write($"\r{_label} [{new string('#', filled)}{new string('.', Width - filled)}] {fraction,4:P0} {_done:N0}/{_total:N0} {_clock.Elapsed.TotalSeconds:F1} s");
    }
}
