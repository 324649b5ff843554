using System.Runtime.InteropServices;
using System.Text;

namespace FanVote.Security;

/// <summary>
/// Appends whole lines to a file that several processes share (anchor records): open with O_APPEND (every writer's
/// line lands whole at the end, none overwrites another's), created 0600 (tightened if it was looser), one write,
/// fsync before returning.
/// </summary>
public static partial class AppendOnlyFile
{
    /// <summary>open(O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0600), one write of the whole line, fsync, close.</summary>
    public static void AppendLine(string path, string line)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(line);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("anchor records are appended with Linux's O_APPEND");
        }

        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        var fd = Open(path, OWronly | OAppend | OCreat | OCloexec, 0x180);
        if (fd < 0)
        {
            throw new IOException($"cannot open {path} to append: errno {Marshal.GetLastPInvokeError()}");
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
                throw new IOException($"cannot append to {path}: wrote {written} of {bytes.Length} bytes, errno {Marshal.GetLastPInvokeError()}");
            }

            if (Fsync(fd) != 0)
            {
                throw new IOException($"cannot sync {path}: errno {Marshal.GetLastPInvokeError()}");
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
