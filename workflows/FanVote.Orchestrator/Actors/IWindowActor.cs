using Dapr.Actors;
using FanVote.Workflows;

namespace FanVote.Orchestrator.Actors;

/// <summary>What the operator API sees of a window: its definition, phase and each step with time and outcome.</summary>
public sealed record WindowStatus(
    string WindowId,
    string Title,
    IReadOnlyList<string> Candidates,
    DateTimeOffset OpensAt,
    DateTimeOffset ClosesAt,
    int VotesPerAccount,
    string Phase,
    IReadOnlyList<StepRecord> Steps)
{
    public static WindowStatus From(WindowState s) => new(
        s.Definition.WindowId, s.Definition.Title, s.Definition.Candidates, s.Definition.OpensAt, s.Definition.ClosesAt,
        s.Definition.VotesPerAccount, s.Phase.ToString(), s.History);
}

/// <summary>The result of a create: the window, and whether this call created it.</summary>
public sealed record CreateResult(WindowStatus? Status, bool Created, bool Conflict);

/// <summary>One actor per window (actor id = window id). Called with JSON (non-remoting) proxies.</summary>
public interface IWindowActor : IActor
{
    Task<CreateResult> CreateAsync(WindowDefinition definition);

    Task<WindowStatus?> GetAsync();
}
