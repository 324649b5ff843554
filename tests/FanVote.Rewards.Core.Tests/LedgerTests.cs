using FanVote.Contracts.Events;
using FanVote.Security;

namespace FanVote.Rewards.Core.Tests;

public sealed class LedgerTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 27, 20, 0, 0, TimeSpan.Zero);

    private static readonly LedgerKey Key = new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>A payout of 4 fans (5 rows) followed by a second window's payout (5 rows): 10 chained rows.</summary>
    private static List<LedgerEntry> Ledger()
    {
        var first = PayoutPlan.Entries("w1", [new("a", "counted-votes", 30), new("b", "counted-votes", 10), new("c", "counted-votes", 20), new("a", "winner-bonus", 50)], T);
        var second = PayoutPlan.Entries("w2", [new("a", "counted-votes", 10), new("d", "counted-votes", 40), new("e", "counted-votes", 10), new("d", "winner-bonus", 50)], T.AddHours(1));
        var rows = LedgerChain.Append(Key, 0, LedgerChain.Genesis, first);
        rows.AddRange(LedgerChain.Append(Key, rows[^1].Seq, rows[^1].Hash, second));
        return rows;
    }

    private static string Messages(LedgerReport r) => string.Join("\n", r.Findings.Select(f => f.Message));

    [Fact]
    public void Verify_UntouchedLedger_IsIntact_AndBalancesAddUpToZero()
    {
        var rows = Ledger();

        var report = LedgerVerifier.Verify(Key, rows, LedgerChain.Balances(rows), [new LedgerHead(rows[^1].Seq, rows[^1].Hash, "test")]);

        Assert.True(report.Intact, Messages(report));
        Assert.Equal(10, report.Rows);
        Assert.Equal(0, LedgerChain.Balances(rows).Values.Sum());
        Assert.Equal(0, LedgerChain.Balances(rows)[Accounts.Pool("w1")]);
        Assert.Equal(90, LedgerChain.Balances(rows)[Accounts.Fan("a")]);
    }

    [Fact]
    public void Verify_ChangedRow_FailsAndNamesIt()
    {
        var rows = Ledger();
        var balances = LedgerChain.Balances(rows);
        rows[4] = rows[4] with { Amount = 500 };

        var report = LedgerVerifier.Verify(Key, rows, balances);

        var changed = Assert.Single(report.Findings, f => f.Kind == FindingKind.Changed);
        Assert.Equal(5, changed.Seq);
        Assert.Equal(rows[4].EntryId, changed.EntryId);
        Assert.Contains("row 5", changed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RemovedRow_FailsAndNamesIt()
    {
        var rows = Ledger();
        var balances = LedgerChain.Balances(rows);
        rows.RemoveAt(3);

        var report = LedgerVerifier.Verify(Key, rows, balances);

        var removed = Assert.Single(report.Findings, f => f.Kind == FindingKind.Removed);
        Assert.Equal(4, removed.Seq);
        Assert.Contains("row 4 was removed", removed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Findings, f => f.Kind == FindingKind.Changed);
    }

    [Fact]
    public void Verify_TwoRowsSwapped_FailsAndNamesBothAsReordered()
    {
        var rows = Ledger();
        var balances = LedgerChain.Balances(rows);
        (rows[5], rows[6]) = (rows[6] with { Seq = 6 }, rows[5] with { Seq = 7 });

        var report = LedgerVerifier.Verify(Key, rows, balances);

        Assert.Equal([6L, 7L], report.Findings.Where(f => f.Kind == FindingKind.Reordered).Select(f => f.Seq!.Value));
        Assert.DoesNotContain(report.Findings, f => f.Kind is FindingKind.Changed or FindingKind.Removed or FindingKind.Balance);
    }

    [Fact]
    public void Verify_RowMovedToTheEnd_NamesThatRowOnly()
    {
        var rows = Ledger();
        var moved = rows[2] with { Seq = 11 };
        rows.RemoveAt(2);
        rows.Add(moved);

        var report = LedgerVerifier.Verify(Key, rows);

        var reordered = Assert.Single(report.Findings, f => f.Kind == FindingKind.Reordered);
        Assert.Equal(11, reordered.Seq);
        Assert.Equal(moved.EntryId, reordered.EntryId);
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.Removed && f.Seq == 3);
    }

    [Fact]
    public void Verify_LastRowRemoved_ShowsInTheBalancesAndAgainstTheHead()
    {
        var rows = Ledger();
        var balances = LedgerChain.Balances(rows);
        var head = new LedgerHead(rows[^1].Seq, rows[^1].Hash, "test");
        rows.RemoveAt(rows.Count - 1);

        var report = LedgerVerifier.Verify(Key, rows, balances, [head]);

        Assert.Contains(report.Findings, f => f.Kind == FindingKind.Balance && f.Message.Contains(Accounts.Fan("d"), StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.Head && f.Seq == 10);
    }

    [Fact]
    public void Verify_RowRewrittenWithAFreshHash_BreaksTheLinkOfTheNextRow()
    {
        var rows = Ledger();
        var forged = rows[2] with { Amount = 999 };
        rows[2] = forged with { Hash = LedgerChain.Hash(Key, forged)! };

        var report = LedgerVerifier.Verify(Key, rows);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(4, finding.Seq);
        Assert.Contains("removed or replaced", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_LedgerRechainedWithoutTheKey_FailsOnEveryRow()
    {
        // What someone holding the database but not the key can do: change a row, then recompute every hash after it,
        // with the old unkeyed hash (format 1 or claiming 2) or with a key of their own.
        var rows = Ledger();
        var balances = LedgerChain.Balances(rows);
        var attackerKey = new LedgerKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        foreach (var (label, rechain) in new (string, Func<LedgerEntry, LedgerEntry>)[]
        {
            ("unkeyed, format 1", e => e with { Chain = LedgerChain.UnkeyedVersion, Hash = LedgerChain.UnkeyedHash(e with { Chain = 1 }) }),
            ("unkeyed, claiming format 2", e => e with { Hash = LedgerChain.UnkeyedHash(e) }),
            ("another key", e => e with { Hash = LedgerChain.Hash(attackerKey, e)! }),
        })
        {
            var forged = new List<LedgerEntry>();
            var prev = LedgerChain.Genesis;
            foreach (var row in rows)
            {
                var e = rechain((row.Seq == 2 ? row with { Amount = row.Amount + 999_999 } : row) with { PrevHash = prev });
                forged.Add(e);
                prev = e.Hash;
            }

            var report = LedgerVerifier.Verify(Key, forged, LedgerChain.Balances(forged));

            Assert.False(report.Intact, label);
            Assert.Equal(rows.Count, report.Findings.Where(f => f.Kind is FindingKind.Changed or FindingKind.Unkeyed).Select(f => f.Seq).Distinct().Count());
        }

        Assert.True(LedgerVerifier.Verify(Key, rows, balances).Intact);
    }

    [Fact]
    public void Anchors_LineRoundTrips_ChangedOrForeignLinesAreBad_LatestIsTheHighestSeq()
    {
        var rows = Ledger();
        var lines = new List<string>
        {
            LedgerAnchors.Line(Key, new ChainAnchor(rows[7].Seq, rows[7].Hash, T)),
            LedgerAnchors.Line(Key, new ChainAnchor(rows[9].Seq, rows[9].Hash, T.AddMinutes(1))),
            LedgerAnchors.Line(Key, new ChainAnchor(rows[8].Seq, rows[8].Hash, T.AddMinutes(2))),
        };
        var forged = LedgerAnchors.Line(new LedgerKey(new byte[32]), new ChainAnchor(3, rows[2].Hash, T));
        var changed = lines[0].Replace("\"seq\":8", "\"seq\":3", StringComparison.Ordinal);

        var file = LedgerAnchors.Read(Key, [.. lines, forged, changed, "not json", ""]);

        Assert.Equal(3, file.Anchors.Count);
        Assert.Equal(10, file.Latest!.Seq);
        Assert.Equal(rows[9].Hash, file.Latest.Head);
        Assert.Equal([4, 5, 6], file.Bad.Select(b => b.Line));
        Assert.True(LedgerVerifier.Verify(Key, rows, null, [new LedgerHead(file.Latest.Seq, file.Latest.Head, "anchor")]).Intact);
        var truncated = rows.Take(9).ToList();
        var report = LedgerVerifier.Verify(Key, truncated, LedgerChain.Balances(truncated), [new LedgerHead(file.Latest.Seq, file.Latest.Head, "anchor")]);
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.Head && f.Seq == 10);
    }

    [Fact]
    public void Append_NonPositiveAmountOrSelfTransfer_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => LedgerChain.Append(Key, 0, LedgerChain.Genesis, [new NewEntry(Guid.NewGuid(), "w", "a", "b", 0, "r", T)]));
        Assert.Throws<ArgumentException>(() => LedgerChain.Append(Key, 0, LedgerChain.Genesis, [new NewEntry(Guid.NewGuid(), "w", "a", "a", 5, "r", T)]));
    }

    [Fact]
    public void PayoutPlan_PointsPerCountedVoteAndOneBonusForFansOfAWinner_ZeroRulesLeftOut()
    {
        CountedVoter[] voters =
        [
            new() { AccountId = "a", Votes = new Dictionary<string, long> { ["x"] = 2, ["y"] = 1 } },
            new() { AccountId = "b", Votes = new Dictionary<string, long> { ["y"] = 3 } },
        ];

        var credits = PayoutPlan.Credits(new PayoutRules { PointsPerVote = 10, WinnerBonus = 50 }, ["x"], voters);
        var noBonus = PayoutPlan.Credits(new PayoutRules { PointsPerVote = 5, WinnerBonus = 0 }, ["x"], voters);
        var entries = PayoutPlan.Entries("w", credits, T);

        Assert.Equal([new FanCredit("a", "counted-votes", 30), new FanCredit("a", "winner-bonus", 50), new FanCredit("b", "counted-votes", 30)], credits);
        Assert.Equal([new FanCredit("a", "counted-votes", 15), new FanCredit("b", "counted-votes", 15)], noBonus);
        Assert.Equal(110, entries[0].Amount);
        Assert.Equal((Accounts.Issuance, Accounts.Pool("w")), (entries[0].Debit, entries[0].Credit));
        Assert.Equal(PayoutPlan.EntryId("w", Accounts.Fan("a"), "winner-bonus"), entries[2].EntryId);
        Assert.Empty(PayoutPlan.Entries("w", [], T));
    }
}
