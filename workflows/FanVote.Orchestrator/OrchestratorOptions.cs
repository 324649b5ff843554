using System.ComponentModel.DataAnnotations;

namespace FanVote.Orchestrator;

/// <summary>
/// Section "Orchestrator" (the operator key is FANVOTE_OPERATOR_KEY, read by the shared operator scheme). The lifecycle's waits are in
/// "Orchestrator:Lifecycle" (FanVote.Workflows.LifecycleTimings), e.g. Orchestrator__Lifecycle__FlagGrace=00:00:30.
/// </summary>
public sealed class OrchestratorOptions
{
    /// <summary>
    /// The window reminder also repeats this often, so a wake-up lost while the orchestrator was down (the sidecar
    /// gives up on a reminder tick after 3 retries 1 s apart) is made up within this time.
    /// </summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);
}
