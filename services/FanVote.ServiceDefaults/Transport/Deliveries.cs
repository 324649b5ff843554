using Microsoft.AspNetCore.Http;

namespace FanVote.ServiceDefaults.Transport;

/// <summary>
/// What a subscription route answers its sidecar for one delivered event (Dapr's programmatic subscription contract):
/// SUCCESS acknowledges it, RETRY has it delivered again later (the sidecar's resiliency policy, then redelivery of the
/// pending entry), DROP acknowledges it as not processable. Bulk subscriptions answer per entry (<see cref="BulkSubscriptions"/>).
/// </summary>
public static class Deliveries
{
    private static readonly IResult SuccessResult = TypedResults.Json(new Status("SUCCESS"));
    private static readonly IResult RetryResult = TypedResults.Json(new Status("RETRY"));

    /// <summary>Handled (or refused for good, and logged): acknowledge it.</summary>
    public static IResult Done() => SuccessResult;

    /// <summary>Cannot be handled yet (something it depends on has not arrived): deliver it again later.</summary>
    public static IResult Retry() => RetryResult;

    private sealed record Status([property: System.Text.Json.Serialization.JsonPropertyName("status")] string Value);
}
