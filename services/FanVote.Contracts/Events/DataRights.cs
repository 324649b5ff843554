using System.Text.Json;

namespace FanVote.Contracts.Events;

/// <summary>What a fan asked for about their data: a copy of it, or its erasure.</summary>
public static class DataRequestKinds
{
    /// <summary>A copy of everything held about the fan.</summary>
    public const string Export = "export";

    /// <summary>Erase or pseudonymize everything held about the fan.</summary>
    public const string Erase = "erase";

    /// <summary>Whether <paramref name="kind"/> is one of the kinds above.</summary>
    public static bool IsKnown(string? kind) => kind is Export or Erase;
}

/// <summary>
/// The orchestrator's data-rights workflow asks the services that hold a fan's data for their part (on
/// `data-requests`): a copy (<see cref="DataRequestKinds.Export"/>) or its erasure (<see cref="DataRequestKinds.Erase"/>).
/// Each named service answers with a <see cref="DataReported"/>; a lost request or answer is simply asked again
/// (<see cref="Seq"/> counts the attempts), and doing the same request twice changes nothing more.
/// </summary>
public sealed record DataRequested : FanVoteEvent
{
    /// <summary>The workflow instance that asks (the answer is raised on it).</summary>
    public required string RequestId { get; init; }

    /// <summary><see cref="DataRequestKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The account (a pseudonym; nothing else about the fan travels).</summary>
    public required string AccountId { get; init; }

    /// <summary>The app ids asked this time; the others ignore the request.</summary>
    public required IReadOnlyList<string> Services { get; init; }

    /// <summary>The attempt (1, 2, ...): a repeat is answered again.</summary>
    public required long Seq { get; init; }
}

/// <summary>
/// One service's answer to a <see cref="DataRequested"/> (on `data-reports`): for an export, its part of the fan's
/// data (<see cref="Data"/>); for an erasure, what it erased or pseudonymized and what it keeps, and why, in words a
/// fan can read. The answer names no person: the request id is all it carries of the fan.
/// </summary>
public sealed record DataReported : FanVoteEvent
{
    /// <summary>The request answered (the workflow instance).</summary>
    public required string RequestId { get; init; }

    /// <summary><see cref="DataRequestKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The answering app id.</summary>
    public required string Service { get; init; }

    /// <summary>Erasure: what is gone or no longer linkable to the fan.</summary>
    public IReadOnlyList<string> Erased { get; init; } = [];

    /// <summary>Erasure: what stays, and why (e.g. the ledger under the account's pseudonym, so counts stay verifiable).</summary>
    public IReadOnlyList<string> Kept { get; init; } = [];

    /// <summary>Export: this service's part (a JSON object).</summary>
    public JsonElement? Data { get; init; }
}
