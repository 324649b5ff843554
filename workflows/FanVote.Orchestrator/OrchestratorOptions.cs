using System.ComponentModel.DataAnnotations;

namespace FanVote.Orchestrator;

/// <summary>Section "Orchestrator"; the operator key also comes from FANVOTE_OPERATOR_KEY.</summary>
public sealed class OrchestratorOptions
{
    /// <summary>Shared secret operators send as X-Operator-Key.</summary>
    [Required(ErrorMessage = "Set FANVOTE_OPERATOR_KEY (or Orchestrator:OperatorKey): operators send it as X-Operator-Key.")]
    [MinLength(16, ErrorMessage = "The operator key must be at least 16 characters.")]
    public string OperatorKey { get; set; } = "";
}
