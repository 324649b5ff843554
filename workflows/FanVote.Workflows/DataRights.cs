using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Workflows;

/// <summary>How a data request waits and how often it asks. The defaults suit production; tests shorten them.</summary>
public sealed record DataRightsTimings
{
    /// <summary>
    /// Erasure: after ingress stopped the account (its votes are refused from then on), how long before the others are
    /// asked, so that votes it accepted just before are in the ledger when tally minimizes them (later ones are taken by
    /// tally's retention pass anyway). As the drain's settle time.
    /// </summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First wait before asking a service again; it doubles per attempt up to <see cref="PollMax"/>.</summary>
    public TimeSpan PollInitial { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan PollMax { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Longest wait after repeated failures to ask (the broker refusing, say).</summary>
    public TimeSpan FailureBackoffMax { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a finished export stays to be downloaded; then the copy is dropped (the workflow's history with it).</summary>
    public TimeSpan ExportKeptFor { get; init; } = TimeSpan.FromHours(1);

    public TimeSpan Poll(int attempt) => LifecycleTimings.Exponential(PollInitial, attempt, PollMax);

    public TimeSpan Backoff(int failures) => LifecycleTimings.Exponential(PollInitial, failures, FailureBackoffMax);
}

/// <summary>What the data-rights workflow is started with. <paramref name="Expired"/>: an export whose copy was dropped (the instance continues as new with it).</summary>
public sealed record DataRequest(string RequestId, string Kind, string AccountId, DateTimeOffset RequestedAt, DataRightsTimings Timings, bool Expired = false);

/// <summary>One service's progress on a request: waiting (not asked yet), asked (how many times), or done, with what it reported.</summary>
public sealed record ServiceProgress(string Service, string State, int Asked, DateTimeOffset? DoneAt, IReadOnlyList<string> Erased, IReadOnlyList<string> Kept);

/// <summary>
/// A data request as the fan sees it: the kind, the state ("running", "done", "expired"), what it is doing now, each
/// service's progress and, for an export that is done, the parts (<see cref="Export"/>, by service). No account id:
/// an erasure's status may be read by whoever holds its request id.
/// </summary>
public sealed record DataRightsStatus(
    string RequestId, string Kind, string State, DateTimeOffset RequestedAt, DateTimeOffset? DoneAt, string Step,
    IReadOnlyList<ServiceProgress> Services, string? LastError, int Failures, DateTimeOffset? ExpiresAt,
    IReadOnlyDictionary<string, JsonElement>? Export)
{
    public const string Running = "running";
    public const string Done = "done";
    public const string ExpiredState = "expired";

    /// <summary>This status without the export's parts (what a list or an anonymous reader sees).</summary>
    public DataRightsStatus WithoutData() => this with { Export = null };
}

/// <summary>
/// The rules of a fan's data request, as pure functions over <see cref="DataRightsStatus"/> (the workflow folds the
/// services' reports through them with its own clock). An export asks every holder at once; an erasure asks ingress
/// first (it unlinks the account from the person and stops it), waits <see cref="DataRightsTimings.Settle"/>, then asks
/// the others. A request is done when every holder reported; reports that do not belong (another kind, an unknown
/// service, a repeat) change nothing.
/// </summary>
public static class DataRights
{
    public const string ErasurePrefix = "fan-erase-";
    public const string ExportPrefix = "fan-export-";

    /// <summary>The erasure's request id (its workflow instance): one per account, so asking twice finds the first.</summary>
    public static string ErasureId(string accountId) => ErasurePrefix + Digest(accountId);

    /// <summary>The export's request id: one at a time per account.</summary>
    public static string ExportId(string accountId) => ExportPrefix + Digest(accountId);

    /// <summary>Whether <paramref name="id"/> has the shape of an erasure's request id.</summary>
    public static bool IsErasureId(string? id) => HasShape(id, ErasurePrefix);

    /// <summary>Whether <paramref name="id"/> has the shape of a data request's id (an erasure's or an export's).</summary>
    public static bool IsRequestId(string? id) => HasShape(id, ErasurePrefix) || HasShape(id, ExportPrefix);

    /// <summary>Window ids may not take these prefixes (their instances share the workflow store).</summary>
    public static bool IsReserved(string id) =>
        id.StartsWith(ErasurePrefix, StringComparison.Ordinal) || id.StartsWith(ExportPrefix, StringComparison.Ordinal);

    public static DataRightsStatus Start(DataRequest request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new DataRightsStatus(request.RequestId, request.Kind, DataRightsStatus.Running, request.RequestedAt, null, "starting",
            [.. Topics.DataHolders.Select(s => new ServiceProgress(s, "waiting", 0, null, [], []))], null, 0, null, null);
    }

    /// <summary>The holders an erasure asks first (the one that holds the link to the person and stops the account).</summary>
    public static IReadOnlyList<string> FirstOf(string kind) => kind == DataRequestKinds.Erase ? [AppIds.Ingress] : Topics.DataHolders;

    /// <summary>The holders an erasure asks once the first are done (none for an export).</summary>
    public static IReadOnlyList<string> ThenOf(string kind) => kind == DataRequestKinds.Erase ? [.. Topics.DataHolders.Where(s => s != AppIds.Ingress)] : [];

    /// <summary>Of <paramref name="services"/>, those that have not reported yet.</summary>
    public static IReadOnlyList<string> Missing(DataRightsStatus s, IReadOnlyList<string> services)
    {
        ArgumentNullException.ThrowIfNull(s);
        return [.. s.Services.Where(p => p.State != "done" && services.Contains(p.Service)).Select(p => p.Service)];
    }

    public static DataRightsStatus Asked(DataRightsStatus s, IReadOnlyList<string> services, string step)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s with
        {
            Step = step,
            LastError = null,
            Services = [.. s.Services.Select(p => p.State != "done" && services.Contains(p.Service) ? p with { State = "asked", Asked = p.Asked + 1 } : p)],
        };
    }

    public static DataRightsStatus Waiting(DataRightsStatus s, string step) => s with { Step = step };

    public static DataRightsStatus Failed(DataRightsStatus s, string error) => s with { LastError = error, Failures = s.Failures + 1 };

    /// <summary>Folds one service's report in: only a first report of a holder, for this request and kind, counts.</summary>
    public static DataRightsStatus Record(DataRightsStatus s, DataReported report, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(report);
        if (report.RequestId != s.RequestId || report.Kind != s.Kind || s.Services.FirstOrDefault(p => p.Service == report.Service) is not { State: not "done" } progress)
        {
            return s;
        }

        var services = s.Services.Select(p => p == progress ? p with { State = "done", DoneAt = now, Erased = report.Erased, Kept = report.Kept } : p).ToList();
        var export = s.Export;
        if (s.Kind == DataRequestKinds.Export)
        {
            var parts = new Dictionary<string, JsonElement>(s.Export ?? new Dictionary<string, JsonElement>(), StringComparer.Ordinal)
            {
                [report.Service] = report.Data ?? JsonSerializer.SerializeToElement(new { }),
            };
            export = parts;
        }

        return s with { Services = services, Export = export };
    }

    public static DataRightsStatus Finish(DataRightsStatus s, DateTimeOffset now, DateTimeOffset? expiresAt)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s with
        {
            State = DataRightsStatus.Done,
            DoneAt = now,
            ExpiresAt = expiresAt,
            LastError = null,
            Step = s.Kind == DataRequestKinds.Erase
                ? "erased: every service erased or pseudonymized its part"
                : $"ready: download it before {expiresAt:u}",
        };
    }

    public static DataRightsStatus Expire(DataRequest request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Start(request, now) with { State = DataRightsStatus.ExpiredState, DoneAt = now, Step = "expired: the copy was dropped; ask again for a new one", Services = [] };
    }

    /// <summary><paramref name="prefix"/> and the 32 hex digits of <see cref="Digest"/>.</summary>
    private static bool HasShape(string? id, string prefix) =>
        id is not null && id.Length == prefix.Length + 32 && id.StartsWith(prefix, StringComparison.Ordinal) && Ids.IsLowerHex(id.AsSpan(prefix.Length));

    private static string Digest(string accountId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("fanvote data request\n" + accountId)).AsSpan(0, 16));
}
