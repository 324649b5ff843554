using FanVote.ActionLog;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.ServiceDefaults;

namespace FanVote.Orchestrator.ActionLog;

/// <summary>
/// Keys in the action log: one `key.in-use` row per (app, setting, fingerprint), the first time an instance of the app
/// reports running with it. A rotation is a new row for the same setting with a new fingerprint; restarts and further
/// instances with the same key find it logged. Reports of the other apps come on `window-reports`; the orchestrator's
/// own are appended directly (it is the <see cref="IKeysInUseSink"/> here). A report that cannot be an app's (an
/// unknown app, a malformed name or fingerprint) logs nothing.
/// </summary>
public sealed class KeysInUseLog(DaprActionLog actions) : IKeysInUseSink
{
    public Task ReportAsync(KeysInUse keys, CancellationToken cancellationToken) => AppendAsync(keys, "local", cancellationToken);

    /// <summary>Appends a row for each key not logged yet; false when the report is not one an app makes.</summary>
    public async Task<bool> AppendAsync(KeysInUse e, string from, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!AppIds.All.Contains(e.App) || e.Keys.Count is 0 or > 64 || e.Instance.Length > 200 || e.Keys.Any(k => !Valid(k)))
        {
            return false;
        }

        foreach (var k in e.Keys)
        {
            await actions.AppendAsync(new ActionDraft(
                $"{Actions.KeyInUse}:{e.App}:{k.Name}:{k.Fingerprint}", e.OccurredAt, "service:" + e.App, Actions.KeyInUse, $"{e.App}:{k.Name}",
                k.Development ? "in use (the public development key)" : "in use", from,
                new Dictionary<string, string> { ["fingerprint"] = k.Fingerprint, ["instance"] = e.Instance }), cancellationToken);
        }

        return true;
    }

    private static bool Valid(KeyInUse k) =>
        k.Name is { Length: > 0 and <= 100 } && !Ids.HasControlCharacters(k.Name) && k.Name.StartsWith("FANVOTE_", StringComparison.Ordinal)
        && k.Fingerprint is { Length: 16 } && Ids.IsLowerHex(k.Fingerprint);
}
