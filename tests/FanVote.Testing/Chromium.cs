using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace FanVote.Testing;

/// <summary>
/// Headless Debian Chromium with a page open in real time, driven over the DevTools protocol: read what the
/// page shows (Runtime.evaluate) and take screenshots (Page.captureScreenshot) while it keeps running.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string BrowserPath = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private Chromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    public static bool Available => File.Exists(BrowserPath);

    public static Task<Chromium> OpenAsync(string url) => OpenAsync(url, 1000, 640, mobile: false);

    /// <summary>Opens <paramref name="url"/> as a phone shows it: a 390 × 844 viewport, mobile (headless windows are at least 500 wide, so the device metrics are set).</summary>
    public static Task<Chromium> OpenPhoneAsync(string url) => OpenAsync(url, 390, 844, mobile: true);

    private static async Task<Chromium> OpenAsync(string url, int width, int height, bool mobile)
    {
        var port = Ports.Free();
        var profile = Directory.CreateTempSubdirectory("fv-chromium-").FullName;
        var psi = new ProcessStartInfo(BrowserPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
            "--hide-scrollbars", $"--window-size={width},{height}", $"--user-data-dir={profile}", $"--remote-debugging-port={port}", url,
        })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var chromium = new Chromium(p, profile);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list")));
                var page = doc.RootElement.EnumerateArray().FirstOrDefault(t => t.GetProperty("type").GetString() == "page");
                if (page.ValueKind == JsonValueKind.Object)
                {
                    await chromium._socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None);
                    if (mobile)
                    {
                        await chromium.SendAsync("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = 1, mobile = true });
                    }

                    return chromium;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            catch (TaskCanceledException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                await chromium.DisposeAsync();
                throw new TimeoutException("chromium did not open its DevTools endpoint");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its value as a string.</summary>
    public async Task<string> EvalAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true });
        return result.GetProperty("result").TryGetProperty("value", out var v) ? v.ToString() : "";
    }

    /// <summary>Polls <paramref name="expression"/> until it returns <paramref name="expected"/> (or the deadline).</summary>
    public async Task<string> WaitForAsync(string expression, string expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last;
        while ((last = await EvalAsync(expression)) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        return last;
    }

    public async Task ScreenshotAsync(string file)
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png" });
        await File.WriteAllBytesAsync(file, Convert.FromBase64String(result.GetProperty("data").GetString()!));
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<JsonElement> SendAsync(string method, object parameters)
    {
        var id = Interlocked.Increment(ref _nextId);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = await _socket.ReceiveAsync(buffer, cts.Token);
                message.Write(buffer, 0, r.Count);
            }
            while (!r.EndOfMessage);

            using var doc = JsonDocument.Parse(message.ToArray());
            if (doc.RootElement.TryGetProperty("id", out var gotId) && gotId.GetInt32() == id)
            {
                return doc.RootElement.TryGetProperty("result", out var result)
                    ? result.Clone()
                    : throw new InvalidOperationException($"DevTools {method} failed: {Encoding.UTF8.GetString(message.ToArray())}");
            }
        }
    }
}
