using System.Text.Json;

namespace FanVote.Contracts;

/// <summary>
/// The one set of JSON options: Web defaults, which is also what DaprClient and the actor SDK use, so an
/// event serialized by a service reads back identically everywhere.
/// </summary>
public static class FanVoteJson
{
    /// <summary>Web defaults (camelCase, case-insensitive reads, numbers from strings allowed).</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
