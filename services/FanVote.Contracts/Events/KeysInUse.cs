namespace FanVote.Contracts.Events;

/// <summary>One key a process runs with: the setting it came from and a fingerprint that identifies it without revealing it.</summary>
/// <param name="Name">The setting (and for a key ring, the key id), e.g. "FANVOTE_TOKEN_KEYS (kid k2)".</param>
/// <param name="Fingerprint">16 hex digits of HMAC-SHA256 under the key itself (a PRF output: nothing about the key).</param>
/// <param name="Development">True for the public development key that stands in for a missing one (Development only).</param>
public sealed record KeyInUse(string Name, string Fingerprint, bool Development);

/// <summary>
/// The keys an instance started with (every app → the orchestrator on `window-reports`), so the action log shows when
/// each key came into use: a rotation is a new fingerprint under the same setting (issue 16).
/// </summary>
public sealed record KeysInUse : FanVoteEvent
{
    /// <summary>The app id of the instance.</summary>
    public required string App { get; init; }

    /// <summary>Which instance (host name and process id).</summary>
    public required string Instance { get; init; }

    /// <summary>Every key the instance loaded.</summary>
    public required IReadOnlyList<KeyInUse> Keys { get; init; }
}
