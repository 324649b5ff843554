namespace FanVote.Sidecar.Api;

/// <summary>daprd's HTTP error body: {"errorCode":"ERR_...","message":"..."} as application/json.</summary>
public static class HttpErrors
{
    public static IResult Error(int status, string errorCode, string message) =>
        Results.Json(new DaprError(errorCode, message), statusCode: status);

    public sealed record DaprError(string ErrorCode, string Message);
}
