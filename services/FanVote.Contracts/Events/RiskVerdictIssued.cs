namespace FanVote.Contracts.Events;

/// <summary>What ingress does with a subject the fraud service scored.</summary>
public enum RiskAction
{
    /// <summary>Nothing to do; lifts an earlier verdict.</summary>
    Clear = 0,

    /// <summary>Votes need a passed challenge (e.g. CAPTCHA) before they count.</summary>
    Challenge = 1,

    /// <summary>Votes are refused.</summary>
    Block = 2,
}

/// <summary>The fraud service scored a subject (account, device or IP prefix).</summary>
public sealed record RiskVerdictIssued : FanVoteEvent
{
    /// <summary>"account", "device" or "ip-prefix".</summary>
    public required string SubjectKind { get; init; }

    /// <summary>The account id, device id or IP prefix.</summary>
    public required string Subject { get; init; }

    /// <summary>Anomaly score, higher is riskier.</summary>
    public required double Score { get; init; }

    /// <summary>Machine-readable reasons, e.g. "device-farm", "metronome".</summary>
    public required IReadOnlyList<string> ReasonCodes { get; init; }

    /// <summary>What ingress should do.</summary>
    public required RiskAction Action { get; init; }

    /// <summary>Version of the model that scored it.</summary>
    public required string ModelVersion { get; init; }

    /// <summary>When the verdict stops applying.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
}
