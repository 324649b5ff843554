using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FanVote.ServiceDefaults.Auth;

/// <summary>
/// The caller is this app's Dapr sidecar: it sent the app API token in <c>dapr-api-token</c> (daprd's mechanism), or
/// as <c>Authorization: Bearer</c> (what Prometheus can send when it scrapes <c>/metrics</c>). Compared in constant time
/// on SHA-256 of both values, so neither content nor length leaks.
/// </summary>
public sealed class AppTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AppToken token)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private static readonly ClaimsPrincipal Sidecar = new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "dapr-sidecar")], FanVoteAuth.AppTokenScheme));
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var expected = token.Digest;
        var given = Request.Headers[FanVoteAuth.TokenHeader].ToString();
        if (given.Length == 0 && Request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            given = auth[7..].Trim();
        }

        if (given.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected)
            ? AuthenticateResult.Success(new AuthenticationTicket(Sidecar, FanVoteAuth.AppTokenScheme))
            : AuthenticateResult.Fail("wrong app API token"));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Not a public route",
            "This route is called by the app's Dapr sidecar only, with the app API token (dapr-api-token). The public API is under /v1.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => HandleChallengeAsync(properties);
}
