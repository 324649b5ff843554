using System.Runtime.InteropServices;
using System.Text;
using FanVote.Rewards.Core;
using Microsoft.Extensions.Options;

namespace FanVote.Rewards.Adapters;

/// <summary>
/// Records heads of the ledger outside the database: one HMAC'd JSON line each (<see cref="LedgerAnchors"/>) appended
/// to FANVOTE_LEDGER_ANCHORS, a file opened O_APPEND (every instance's lines land whole at the end, none overwrites
/// another's), created 0600, and synced before the call returns. `ledger verify` checks the chain against the latest.
/// Someone who rewrites the database cannot remove or change these lines, nor forge one without the key, so a
/// truncated or re-chained tail shows. No file configured: nothing is anchored (allowed only in Development).
/// </summary>
public sealed partial class LedgerAnchorLog(IOptions<RewardsOptions> options, LedgerKey key, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _anchoredSeq = -1;

    public string? Path => options.Value.AnchorFile is { Length: > 0 } p ? p : null;

    /// <summary>The highest seq this instance anchored (-1 none yet).</summary>
    public long AnchoredSeq => Volatile.Read(ref _anchoredSeq);

    /// <summary>Appends (seq, head, now) unless this instance anchored this row or a later one already; returns whether it wrote.</summary>
    public async Task<bool> AnchorAsync(long seq, byte[] head, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(head);
        if (Path is not { } path || seq <= 0)
        {
            return false;
        }

        await _gate.WaitAsync(ct);
        try
        {
            if (seq <= _anchoredSeq)
            {
                return false;
            }

            AppendLine(path, LedgerAnchors.Line(key, new LedgerAnchor(seq, head, time.GetUtcNow())));
            Volatile.Write(ref _anchoredSeq, seq);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>open(O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0600), one write of the whole line, fsync, close.</summary>
    public static void AppendLine(string path, string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("ledger anchors are appended with Linux's O_APPEND");
        }

        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        var fd = Open(path, OWronly | OAppend | OCreat | OCloexec, 0x180);
        if (fd < 0)
        {
            throw new IOException($"cannot open the ledger anchor file {path}: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            // One write: with O_APPEND the kernel puts the whole line at the end of the file, atomically for a regular file.
            var written = Write(fd, bytes, (nuint)bytes.Length);
            if (written != bytes.Length)
            {
                throw new IOException($"cannot append to the ledger anchor file {path}: wrote {written} of {bytes.Length} bytes, errno {Marshal.GetLastPInvokeError()}");
            }

            if (Fsync(fd) != 0)
            {
                throw new IOException($"cannot sync the ledger anchor file {path}: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // Linux's values (x64 and arm64 alike).
    private const int OWronly = 0x1;
    private const int OCreat = 0x40;
    private const int OAppend = 0x400;
    private const int OCloexec = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte[] buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
