using System.Net.Http.Json;
using System.Text;

namespace FanVote.Ingress.Adapters;

/// <summary>What a passcode is for: the gateway words its message by it.</summary>
public enum OtpPurpose
{
    /// <summary>The fan signs in.</summary>
    SignIn,

    /// <summary>A parent or guardian is asked to consent for a child (the fan gives them the code back).</summary>
    GuardianConsent,
}

/// <summary>Sends a one-time passcode to a phone or e-mail address. No implementation ever logs the code.</summary>
public interface IOtpNotifier
{
    Task SendAsync(string contact, string code, OtpPurpose purpose, CancellationToken cancellationToken);
}

/// <summary>
/// The production notifier: hands the passcode to the deployment's SMS / e-mail gateway over HTTPS,
/// <c>POST Ingress:OtpWebhook:Url</c> with <c>{"contact","code","purpose"}</c> (purpose "sign-in" or "guardian-consent") and
/// <c>Authorization: Bearer FANVOTE_OTP_WEBHOOK_TOKEN</c>. A failure is an error for the request (the fan asks again).
/// </summary>
public sealed class WebhookOtpNotifier(HttpClient http, Uri url, string token) : IOtpNotifier
{
    public const string TokenSetting = "FANVOTE_OTP_WEBHOOK_TOKEN";

    public async Task SendAsync(string contact, string code, OtpPurpose purpose, CancellationToken cancellationToken)
    {
        var what = purpose == OtpPurpose.GuardianConsent ? "guardian-consent" : "sign-in";
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(new { contact, code, purpose = what }) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}

/// <summary>
/// Development only: appends "contact code" lines to an outbox file (mode 0600, <c>Ingress:OtpOutbox</c>) that stands
/// in for the SMS gateway, so a developer or a test reads the code there. Never a log: logs travel to places codes must not.
/// </summary>
public sealed class OutboxOtpNotifier(string path) : IOtpNotifier, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Path => path;

    public void Dispose() => _gate.Dispose();

    public async Task SendAsync(string contact, string code, OtpPurpose purpose, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (OperatingSystem.IsWindows())
            {
                throw new PlatformNotSupportedException("the passcode outbox is a 0600 file; FanVote runs on Linux");
            }

            await using var f = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            await f.WriteAsync(Encoding.UTF8.GetBytes($"{contact} {code}\n"), cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }
}
