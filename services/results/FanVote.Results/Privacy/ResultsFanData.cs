using System.Text.Json;
using FanVote.Contracts;
using FanVote.ServiceDefaults;

namespace FanVote.Results.Privacy;

/// <summary>
/// Results' part of a fan's export and erasure: it holds nothing tied to an account. Live counts and certified results
/// are totals; a vote's receipt is its Merkle leaf (vote id and candidate, no account) found by the vote id the fan
/// was given; stream connections are not recorded. It answers so the fan sees every service was asked.
/// </summary>
public sealed class ResultsFanData : IFanDataHolder
{
    public Task<JsonElement> ExportAsync(string accountId, CancellationToken cancellationToken) =>
        Task.FromResult(JsonSerializer.SerializeToElement(new
        {
            held = Array.Empty<object>(),
            note = "results holds nothing tied to your account: live and certified counts are totals, and a vote's receipt (vote id, candidate) is found by the vote id you were given",
        }, FanVoteJson.Options));

    public Task<ErasureOutcome> EraseAsync(string accountId, CancellationToken cancellationToken) =>
        Task.FromResult(new ErasureOutcome(
            [],
            ["receipts of every counted vote (vote id and candidate, no account), so anyone can check a certified result"]));
}
