using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace FanVote.Ingress.Risk;

/// <summary>
/// Checks a fan's answer to a challenge. A deployment plugs in its CAPTCHA provider here (verify the provider's token
/// server-side); the vote path never calls it, only `POST /v1/challenges/{id}` does.
/// </summary>
public interface IChallengeVerifier
{
    /// <summary>What the 403 tells the client to show ("captcha", "development", ...).</summary>
    string Kind { get; }

    Task<bool> VerifyAsync(Guid challengeId, string answer, CancellationToken cancellationToken);
}

/// <summary>
/// Development verifier: accepts the fixed answer in <c>Ingress:ChallengeAnswer</c> (default <c>i-am-a-fan</c>) for any
/// challenge. Not a CAPTCHA: replace it before exposing ingress to the internet.
/// </summary>
public sealed class DevelopmentChallengeVerifier(IOptions<IngressOptions> options) : IChallengeVerifier
{
    public string Kind => "development";

    public Task<bool> VerifyAsync(Guid challengeId, string answer, CancellationToken cancellationToken) =>
        Task.FromResult(CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(answer), Encoding.UTF8.GetBytes(options.Value.ChallengeAnswer)));
}
