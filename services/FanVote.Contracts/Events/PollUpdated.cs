namespace FanVote.Contracts.Events;

/// <summary>
/// A poll question's live results (rewards → results on `poll-updated`): results shows it like a window's counts,
/// under <see cref="ResultsId"/>, on the same board and SSE streams. <see cref="Seq"/> grows with every snapshot of
/// the poll, so a late or repeated one never moves the numbers back.
/// </summary>
public sealed record PollUpdated : FanVoteEvent
{
    /// <summary>The poll.</summary>
    public required string PollId { get; init; }

    /// <summary>The question's number in the poll (0, 1, ...).</summary>
    public required int Question { get; init; }

    /// <summary>Where results shows it: "poll_" + poll id + "_" + question number.</summary>
    public required string ResultsId { get; init; }

    /// <summary>The question's text.</summary>
    public required string Text { get; init; }

    /// <summary>The question's option ids, in order.</summary>
    public required IReadOnlyList<string> Options { get; init; }

    /// <summary>"scheduled", "open" or "closed".</summary>
    public required string State { get; init; }

    /// <summary>True while the poll hides its results until it closes: <see cref="Counts"/> and <see cref="Total"/> are then empty.</summary>
    public required bool Hidden { get; init; }

    /// <summary>Fans who answered the question.</summary>
    public required long Total { get; init; }

    /// <summary>Fans who chose each option.</summary>
    public required IReadOnlyDictionary<string, long> Counts { get; init; }

    /// <summary>Grows with every snapshot of the poll.</summary>
    public required long Seq { get; init; }
}
