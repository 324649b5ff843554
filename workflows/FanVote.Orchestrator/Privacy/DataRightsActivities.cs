using Dapr.Client;
using Dapr.Workflow;
using FanVote.ActionLog;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Orchestrator.ActionLog;

namespace FanVote.Orchestrator.Privacy;

/// <summary>Publishes the ask on `data-requests` (event id stable per request and attempt, so a repeat after a crash is the same event).</summary>
public sealed class AskForDataActivity(DaprClient dapr, TimeProvider time) : WorkflowActivity<DataAsk, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, DataAsk input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await dapr.PublishEventAsync(ComponentNames.VoteBus, Topics.DataRequests, new DataRequested
        {
            EventId = EventIds.Stable(input.RequestId, "data-requested", input.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            OccurredAt = time.GetUtcNow(),
            RequestId = input.RequestId,
            Kind = input.Kind,
            AccountId = input.AccountId,
            Services = input.Services,
            Seq = input.Seq,
        });
        return true;
    }
}

/// <summary>The erasure in the action log, once per request (its id): who asked is "fan", never the account or an address.</summary>
public sealed class LogErasureActivity(DaprActionLog actions) : WorkflowActivity<ErasureDone, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, ErasureDone input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await actions.AppendAsync(new ActionDraft($"{Actions.FanErasure}:{input.RequestId}", input.At, "fan", Actions.FanErasure, input.RequestId, "erased",
            "api:DELETE /v1/me", new Dictionary<string, string> { ["services"] = string.Join(",", input.Services) }), CancellationToken.None);
        return true;
    }
}
