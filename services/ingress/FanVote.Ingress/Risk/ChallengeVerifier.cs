using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FanVote.Ingress.Risk;

/// <summary>
/// Checks a fan's answer to a challenge. The vote path never calls it, only `POST /v1/challenges/{id}` does.
/// </summary>
public interface IChallengeVerifier
{
    /// <summary>What the 403 tells the client to show ("captcha", "development").</summary>
    string Kind { get; }

    Task<bool> VerifyAsync(Guid challengeId, string answer, string clientIp, CancellationToken cancellationToken);
}

/// <summary>
/// The production verifier: the answer is the token the fan's CAPTCHA widget produced, checked server-side with the
/// provider's "siteverify" API (hCaptcha, Cloudflare Turnstile and reCAPTCHA share its shape: form fields secret,
/// response, remoteip; a JSON answer with "success"). Configured by <c>Ingress:Captcha:VerifyUrl</c> and
/// FANVOTE_CAPTCHA_SECRET; ingress does not start outside Development without both.
/// </summary>
public sealed class SiteVerifyChallengeVerifier(HttpClient http, Uri verifyUrl, string secret) : IChallengeVerifier
{
    public const string SecretSetting = "FANVOTE_CAPTCHA_SECRET";

    public string Kind => "captcha";

    public async Task<bool> VerifyAsync(Guid challengeId, string answer, string clientIp, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent([new("secret", secret), new("response", answer), new("remoteip", clientIp)]);
        using var response = await http.PostAsync(verifyUrl, form, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the CAPTCHA provider answered {(int)response.StatusCode}");
        }

        using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return doc.RootElement.TryGetProperty("success", out var ok) && ok.ValueKind == JsonValueKind.True;
    }
}

/// <summary>
/// Development only: accepts one answer for any challenge, FANVOTE_CHALLENGE_ANSWER (`./fanvote up` generates it into
/// its secrets file). Not a CAPTCHA: ingress refuses to start with it outside Development.
/// </summary>
public sealed class DevelopmentChallengeVerifier(string expected) : IChallengeVerifier
{
    public const string AnswerSetting = "FANVOTE_CHALLENGE_ANSWER";

    public string Kind => "development";

    public Task<bool> VerifyAsync(Guid challengeId, string answer, string clientIp, CancellationToken cancellationToken) =>
        Task.FromResult(CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(answer)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))));
}
