using System.Security.Cryptography;
using FanVote.Security;

namespace FanVote.ActionLog.Tests;

public sealed class ActionChainTests
{
    private static readonly ActionLogKey Key = new(RandomNumberGenerator.GetBytes(32));
    private static readonly DateTimeOffset T = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static ActionDraft Draft(int i, string actor = "alice") => new(
        "id-" + i, T.AddSeconds(i).AddTicks(1234), actor, Actions.WindowCreate, "w-" + i, "created", "10.0.0.7",
        new Dictionary<string, string> { ["title"] = "Show " + i, ["candidates"] = "a,b" });

    private static List<ActionRecord> Log(int n, ActionLogKey? key = null)
    {
        var rows = new List<ActionRecord>();
        for (var i = 1; i <= n; i++)
        {
            var head = rows.Count > 0 ? rows[^1] : null;
            rows.Add(ActionChain.Next(key ?? Key, head?.Seq ?? 0, head?.Hash ?? ActionChain.Genesis, Draft(i)));
        }

        return rows;
    }

    private static AnchorFile Anchored(params ActionRecord[] heads) =>
        Key.Anchors.Read(heads.Select(h => Key.Anchors.Line(new ChainAnchor(h.Seq, Convert.FromHexString(h.Hash), h.At))));

    [Fact]
    public void Next_ChainsAfterTheHead_KeepsTimesToTheMillisecond()
    {
        var rows = Log(3);

        Assert.Equal([1L, 2L, 3L], rows.Select(r => r.Seq));
        Assert.Equal(ActionChain.Genesis, rows[0].PrevHash);
        Assert.Equal(rows[0].Hash, rows[1].PrevHash);
        Assert.Equal(rows[1].Hash, rows[2].PrevHash);
        Assert.Equal(T.AddSeconds(1), rows[0].At);
        Assert.Equal(64, rows[0].Hash.Length);
    }

    [Fact]
    public void Hash_SeesEveryField_AndTheKey_NotTheDetailsOrder()
    {
        var row = Log(1)[0];
        ActionRecord[] changed =
        [
            row with { Id = "id-x" }, row with { At = row.At.AddMilliseconds(1) }, row with { Actor = "bob" }, row with { Action = Actions.WindowContinue },
            row with { Target = "w-2" }, row with { Outcome = "refused" }, row with { From = "10.0.0.8" }, row with { PrevHash = new string('1', 64) },
            row with { Detail = new Dictionary<string, string> { ["title"] = "Show 1", ["candidates"] = "a,b,c" } },
        ];

        Assert.All(changed, c => Assert.NotEqual(row.Hash, ActionChain.Hash(Key, c)));
        Assert.NotEqual(row.Hash, ActionChain.Hash(new ActionLogKey(new byte[32]), row));
        Assert.Equal(row.Hash, ActionChain.Hash(Key, row with { Detail = new Dictionary<string, string> { ["candidates"] = "a,b", ["title"] = "Show 1" } }));
    }

    [Fact]
    public void Hash_FieldBoundariesAreUnambiguous()
    {
        var row = Log(1)[0];

        // The same characters split differently between two fields hash differently.
        Assert.NotEqual(ActionChain.Hash(Key, row with { Actor = "alice\nwindow.create", Action = "" }), ActionChain.Hash(Key, row with { Actor = "alice", Action = "\nwindow.create" }));
        Assert.NotEqual(
            ActionChain.Hash(Key, row with { Detail = new Dictionary<string, string> { ["a"] = "b\",\"c" } }),
            ActionChain.Hash(Key, row with { Detail = new Dictionary<string, string> { ["a"] = "b", ["c"] = "" } }));
    }

    [Fact]
    public void Verify_AnIntactLog_MatchingItsLatestAnchor()
    {
        var rows = Log(5);

        var report = ActionLogVerifier.Verify(Key, rows, Anchored(rows[2], rows[4], rows[3]));

        Assert.True(report.Intact, string.Join("\n", report.Findings));
        Assert.Equal(5, report.Rows);
    }

    [Fact]
    public void Verify_NamesAChangedRow()
    {
        var rows = Log(5);
        rows[2] = rows[2] with { Actor = "mallory" };

        var f = Assert.Single(ActionLogVerifier.Verify(Key, rows, Anchored(rows[4])).Findings);

        Assert.Equal(ActionFindingKind.Changed, f.Kind);
        Assert.Equal(3, f.Seq);
        Assert.Contains("row 3 (window.create by mallory, id id-3) was changed", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ARowRechainedWithoutTheKey_IsChanged()
    {
        var rows = Log(3);
        var forgedKey = new ActionLogKey(new byte[32]);
        var forged = rows[1] with { Actor = "mallory" };
        rows[1] = forged with { Hash = ActionChain.Hash(forgedKey, forged) };

        var findings = ActionLogVerifier.Verify(Key, rows).Findings;

        Assert.Contains(findings, f => f.Kind == ActionFindingKind.Changed && f.Seq == 2);
        Assert.Contains(findings, f => f.Kind == ActionFindingKind.Removed && f.Seq == 3); // row 3 was chained after the real row 2
    }

    [Fact]
    public void Verify_NamesRemovedRows_InTheMiddle()
    {
        var rows = Log(6);
        rows.RemoveRange(2, 2);

        var findings = ActionLogVerifier.Verify(Key, rows, Anchored(rows[^1])).Findings;

        var f = Assert.Single(findings);
        Assert.Equal(ActionFindingKind.Removed, f.Kind);
        Assert.Contains("rows 3-4 were removed (the log goes from row 2 to row 5)", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_NamesSwappedRows()
    {
        var rows = Log(5);
        var (a, b) = (rows[1], rows[2]);
        rows[1] = b with { Seq = 2 };
        rows[2] = a with { Seq = 3 };

        var findings = ActionLogVerifier.Verify(Key, rows, Anchored(rows[4])).Findings;

        Assert.Contains(findings, f => f.Kind == ActionFindingKind.Reordered && f.Seq == 2);
        Assert.DoesNotContain(findings, f => f.Kind == ActionFindingKind.Changed);
    }

    [Fact]
    public void Verify_ACutTail_ShowsOnlyAgainstTheAnchor()
    {
        var rows = Log(6);
        var anchors = Anchored(rows[5]);
        var cut = rows.Take(4).ToList();

        Assert.True(ActionLogVerifier.Verify(Key, cut).Intact); // a keyed chain alone cannot show a cut tail
        var f = Assert.Single(ActionLogVerifier.Verify(Key, cut, anchors, "anchors.jsonl").Findings);
        Assert.Equal(ActionFindingKind.Head, f.Kind);
        Assert.Contains("row 6, recorded as the log's head in anchors.jsonl", f.Message, StringComparison.Ordinal);
        Assert.Contains("the log ends at row 4", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ALogRechainedFromTheStart_FailsAgainstTheAnchor()
    {
        var rows = Log(4);
        var anchors = Anchored(rows[3]);
        var other = Log(4, new ActionLogKey(new byte[32]));

        var findings = ActionLogVerifier.Verify(Key, other, anchors).Findings;

        Assert.Contains(findings, f => f.Kind == ActionFindingKind.Head && f.Message.Contains("its hash differs", StringComparison.Ordinal));
    }

    [Fact]
    public void Anchors_ForgedOrFromAnotherChain_DoNotCheck_AndAreNamed()
    {
        var rows = Log(3);
        var forged = new ActionLogKey(new byte[32]).Anchors.Line(new ChainAnchor(9, new byte[32], T));
        var ledgerStyle = new ChainAnchors("fanvote-ledger-anchor-v1", new byte[32], "rewards").Line(new ChainAnchor(9, new byte[32], T));
        var good = Key.Anchors.Line(new ChainAnchor(3, Convert.FromHexString(rows[2].Hash), T));

        var file = Key.Anchors.Read([good, forged, ledgerStyle, "not json", ""]);
        var report = ActionLogVerifier.Verify(Key, rows, file, "a.jsonl");

        Assert.Equal(3, file.Latest!.Seq);
        Assert.Equal(3, report.Findings.Count);
        Assert.All(report.Findings, f => Assert.Equal(ActionFindingKind.Anchor, f.Kind));
        Assert.Contains(report.Findings, f => f.Message == "line 2 of a.jsonl: its MAC does not check with the key: it was not written by the orchestrator, or was changed");
        Assert.Contains(report.Findings, f => f.Message == "line 4 of a.jsonl: not a well-formed anchor record");
    }
}
