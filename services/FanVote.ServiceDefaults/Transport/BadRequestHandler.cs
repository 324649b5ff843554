using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace FanVote.ServiceDefaults.Transport;

/// <summary>
/// A request ASP.NET Core could not read (malformed JSON, a body over the endpoint's limit, a missing required body) is
/// the client's mistake: answered with its own status (400, 413) as problem+json that says what to send, never 500.
/// </summary>
internal sealed class BadRequestHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        var (title, detail) = bad.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => ("Request too large", "The request body is larger than this endpoint accepts; send only the fields it documents."),
            StatusCodes.Status415UnsupportedMediaType => ("Unsupported media type", "Send the body as JSON with Content-Type: application/json."),
            _ => ("Malformed request", "The request could not be read: send a well-formed JSON body with the documented fields."),
        };
        await Problems.WriteAsync(httpContext, bad.StatusCode, title, detail);
        return true;
    }
}
