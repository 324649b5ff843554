using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;

namespace FanVote.Workflows.Tests;

/// <summary>
/// The pure rules of a fan's data request, as the data-rights workflow (FanVote.Orchestrator/Privacy) folds them: who is
/// asked when, which reports count, what the fan sees. The workflow itself is tested end to end (DataRightsTests there),
/// killed mid-way.
/// </summary>
public sealed class DataRightsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 20, 0, 0, TimeSpan.Zero);
    private const string Account = "u_0123456789abcdef01234567";

    private static DataReported Report(DataRightsStatus s, string service, string? kind = null, string? requestId = null) => new()
    {
        EventId = Guid.NewGuid(), OccurredAt = T0, RequestId = requestId ?? s.RequestId, Kind = kind ?? s.Kind, Service = service,
        Erased = [$"{service} erased"], Kept = [$"{service} kept"],
        Data = s.Kind == DataRequestKinds.Export ? JsonSerializer.SerializeToElement(new { from = service }) : null,
    };

    [Fact]
    public void Erasure_AsksIngressFirst_ThenTheOthers_AndIsDoneWhenEveryHolderReported()
    {
        var request = new DataRequest(DataRights.ErasureId(Account), DataRequestKinds.Erase, Account, T0, new DataRightsTimings());
        var s = DataRights.Start(request, T0);
        Assert.Equal([AppIds.Ingress], DataRights.FirstOf(DataRequestKinds.Erase));
        Assert.Equal([AppIds.Tally, AppIds.Fraud, AppIds.Rewards, AppIds.Results], DataRights.ThenOf(DataRequestKinds.Erase));
        Assert.Equal(Topics.DataHolders, s.Services.Select(p => p.Service));
        Assert.All(s.Services, p => Assert.Equal("waiting", p.State));

        s = DataRights.Asked(s, [AppIds.Ingress], "asked ingress");
        s = DataRights.Asked(s, [AppIds.Ingress], "asked ingress again");
        Assert.Equal(2, s.Services.Single(p => p.Service == AppIds.Ingress).Asked);
        s = DataRights.Record(s, Report(s, AppIds.Ingress), T0.AddSeconds(1));
        Assert.Empty(DataRights.Missing(s, DataRights.FirstOf(DataRequestKinds.Erase)));
        Assert.Equal(["ingress erased"], s.Services.Single(p => p.Service == AppIds.Ingress).Erased);

        // What does not belong changes nothing: another request, another kind, a service that holds nothing, a repeat.
        var before = s;
        foreach (var r in new[] { Report(s, AppIds.Tally, requestId: "fan-erase-other"), Report(s, AppIds.Tally, kind: DataRequestKinds.Export), Report(s, "spy"), Report(s, AppIds.Ingress) })
        {
            s = DataRights.Record(s, r, T0.AddSeconds(2));
        }

        Assert.Equal(before, s);
        Assert.Equal(DataRights.ThenOf(DataRequestKinds.Erase), DataRights.Missing(s, DataRights.ThenOf(DataRequestKinds.Erase)));
        foreach (var service in DataRights.ThenOf(DataRequestKinds.Erase))
        {
            s = DataRights.Record(s, Report(s, service), T0.AddSeconds(3));
        }

        Assert.Empty(DataRights.Missing(s, Topics.DataHolders));
        Assert.Null(s.Export);
        s = DataRights.Finish(s, T0.AddSeconds(4), expiresAt: null);
        Assert.Equal(DataRightsStatus.Done, s.State);
        Assert.DoesNotContain(Account, JsonSerializer.Serialize(s, FanVoteJson.Options), StringComparison.Ordinal); // the status names no one
    }

    [Fact]
    public void Export_AsksEveryHolderAtOnce_KeepsEachPart_AndExpires()
    {
        var request = new DataRequest(DataRights.ExportId(Account), DataRequestKinds.Export, Account, T0, new DataRightsTimings());
        Assert.Equal(Topics.DataHolders, DataRights.FirstOf(DataRequestKinds.Export));
        Assert.Empty(DataRights.ThenOf(DataRequestKinds.Export));
        var s = DataRights.Start(request, T0);
        foreach (var service in Topics.DataHolders)
        {
            s = DataRights.Record(s, Report(s, service), T0);
        }

        Assert.Equal(Topics.DataHolders.Order(StringComparer.Ordinal), s.Export!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(AppIds.Tally, s.Export[AppIds.Tally].GetProperty("from").GetString());
        Assert.Null(s.WithoutData().Export);
        var done = DataRights.Finish(s, T0.AddSeconds(5), T0.AddHours(1));
        Assert.Equal(T0.AddHours(1), done.ExpiresAt);
        var expired = DataRights.Expire(request with { Expired = true }, T0.AddHours(1));
        Assert.Equal(DataRightsStatus.ExpiredState, expired.State);
        Assert.Null(expired.Export);
    }

    [Fact]
    public void RequestIds_AreOnePerAccountAndKind_AndWindowsCannotTakeThem()
    {
        Assert.Equal(DataRights.ErasureId(Account), DataRights.ErasureId(Account));
        Assert.NotEqual(DataRights.ErasureId(Account), DataRights.ErasureId("u_0123456789abcdef01234568"));
        Assert.True(DataRights.IsErasureId(DataRights.ErasureId(Account)));
        Assert.False(DataRights.IsErasureId(DataRights.ExportId(Account)));
        Assert.False(DataRights.IsErasureId("fan-erase-xyz"));
        Assert.True(DataRights.IsRequestId(DataRights.ErasureId(Account)) && DataRights.IsRequestId(DataRights.ExportId(Account)));
        Assert.False(DataRights.IsRequestId("fan-export-0123"));
        Assert.False(DataRights.IsRequestId(DataRights.ExportId(Account).ToUpperInvariant()));
        Assert.False(DataRights.IsRequestId("final-1"));
        Assert.True(Ids.IsValid(DataRights.ErasureId(Account)) && Ids.IsValid(DataRights.ExportId(Account)));
        Assert.DoesNotContain(Account[2..], DataRights.ErasureId(Account), StringComparison.Ordinal);

        var window = new WindowDefinition(DataRights.ErasureId(Account), "t", ["a", "b"], T0.AddMinutes(1), T0.AddMinutes(5), 1);
        Assert.Contains("windowId", window.Validate(T0).Keys);
        Assert.Empty((window with { WindowId = "fan-erasure-party" }).Validate(T0));
    }

    [Fact]
    public void Timings_WaitLongerEachAsk_UpToTheMaximum()
    {
        var t = new DataRightsTimings { PollInitial = TimeSpan.FromSeconds(2), PollMax = TimeSpan.FromSeconds(60) };
        Assert.Equal([2, 4, 8, 16, 32, 60, 60], Enumerable.Range(1, 7).Select(n => t.Poll(n).TotalSeconds));
    }
}
