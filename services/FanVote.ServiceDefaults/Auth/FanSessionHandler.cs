using System.Security.Claims;
using System.Text.Encodings.Web;
using FanVote.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FanVote.ServiceDefaults.Auth;

/// <summary>
/// A fan's session: <c>Authorization: Bearer &lt;token&gt;</c>, a token ingress signed, checked locally (no store hit).
/// The token is the fan's whole identity: account, device, sign-in kind and account age all come from it, and no
/// header can override them. The claims are put on the request (<see cref="FanVoteAuth.Fan"/>); a refusal is a 401
/// problem+json that says what to do (sign in, sign in again).
/// </summary>
public sealed class FanSessionHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, SessionTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string ErrorItem = "fanvote.token-error";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var auth = Request.Headers.Authorization.ToString();
        var error = tokens.Validate(auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null, out var claims);
        if (error != TokenError.None)
        {
            Context.Items[ErrorItem] = error;
            return Task.FromResult(error == TokenError.Missing ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(error.ToString()));
        }

        Context.Features.Set(claims!);
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, claims!.AccountId)], FanVoteAuth.FanScheme));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, FanVoteAuth.FanScheme)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var error = Context.Items.TryGetValue(ErrorItem, out var e) && e is TokenError te ? te : TokenError.Missing;
        return Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Not signed in", SessionTokens.Explain(error));
    }
}
