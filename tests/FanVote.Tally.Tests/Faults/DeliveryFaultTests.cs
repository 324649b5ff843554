using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Testing;
using Npgsql;
using StackExchange.Redis;

namespace FanVote.Tally.Tests.Faults;

/// <summary>
/// The tally's handler fails mid-burst because its ledger table is gone (renamed away, as a bad migration or an
/// operator would do it; ALTER TABLE waits for the batch in flight, so nothing half-commits), then comes back.
/// With components/local's resiliency every vote is persisted exactly once and nothing is dead-lettered; with a
/// retry budget shorter than the outage every vote is in the ledger or on the dead-letter stream (or both: delivery is
/// at least once), and `fanvote dlq replay` puts each in the ledger exactly once.
/// </summary>
public sealed class DeliveryFaultTests(ITestOutputHelper output)
{
    private const string Offline = "votes_offline";

    [Fact]
    public async Task Outage20s_LocalResiliency_EveryVotePersistedOnce_NothingDeadLettered()
    {
        await using var rig = new TallyRig();
        await rig.InitializeAsync();
        var window = "fault-" + Guid.NewGuid().ToString("N")[..8];
        var votes = TallyRig.Votes(window, 12_000, candidates: 4);
        var published = 0;
        var publishing = PublishPacedAsync(rig, votes, TimeSpan.FromMilliseconds(800), () => Interlocked.Increment(ref published));
        await WaitUntilAsync(async () => await rig.LedgerCountAsync(window) >= 1500, TimeSpan.FromSeconds(60));

        var (rowsAtStart, rowsAtEnd, publishedDuring) = await TableGoneAsync(rig, window, TimeSpan.FromSeconds(20), () => Volatile.Read(ref published) * 500);
        await publishing;
        var sw = Stopwatch.StartNew();
        var stored = await rig.WaitLedgerAsync(window, votes.Count, TimeSpan.FromSeconds(150));
        output.WriteLine($"outage: {rowsAtStart} rows when the table went, {rowsAtEnd} when it came back, {publishedDuring} votes published meanwhile; " +
            $"all {stored} stored {sw.Elapsed.TotalSeconds:F1} s after the publisher finished");

        Assert.True(publishedDuring > 0 && rowsAtStart < votes.Count, "the outage must fall mid-burst");
        Assert.Equal(rowsAtStart, rowsAtEnd); // the handler really failed for the whole outage
        Assert.True(await RetriedBatchesAsync(rig) > 0, "the tally reported no failed batch");
        Assert.Equal(votes.Count, stored);
        Assert.Equal(votes.Select(v => v.VoteId).ToHashSet(), await PersistedAsync(rig, window));
        var (rows, counts, persisted) = await rig.CompareAsync(window);
        Assert.Equal(rows, counts);
        Assert.Equal(votes.Count, persisted);
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.Empty(await DeadLetteredAsync(rig, window));
    }

    /// <summary>
    /// Delivery is at least once: a batch the tally committed whose acknowledgement came too late is delivered again,
    /// and with the outage still on its retries can run out, so a vote can be both persisted and dead-lettered (seen:
    /// "5345 persisted, 657 dead-lettered of 6000"). What must hold: every vote is in the ledger or on the
    /// dead-letter stream, and after `fanvote dlq replay` (its own code) every vote is in the ledger exactly once and
    /// counted once, the dead letters are gone, and a second replay does nothing.
    /// </summary>
    [Fact]
    public async Task Outage_RetryBudgetShorterThanIt_EveryVoteLedgeredOrDeadLettered_AfterReplayLedgeredAndCountedOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var resources = ResourceFolder.LocalComponents();
        var resiliency = await File.ReadAllTextAsync(Path.Combine(resources.Path, "resiliency.yaml"), ct);
        const string Deliver = "      deliver:\n        policy: exponential\n        maxInterval: 10s\n        maxRetries: 30\n";
        Assert.Contains(Deliver, resiliency, StringComparison.Ordinal);
        resources.With("resiliency.yaml", resiliency.Replace(Deliver, "      deliver:\n        policy: constant\n        duration: 100ms\n        maxRetries: 2\n", StringComparison.Ordinal));
        await using var rig = TallyRig.On(resources);
        await rig.InitializeAsync();
        var window = "budget-" + Guid.NewGuid().ToString("N")[..8];
        var votes = TallyRig.Votes(window, 6000, candidates: 3);
        var all = votes.Select(v => v.VoteId).ToHashSet();
        var publishing = PublishPacedAsync(rig, votes, TimeSpan.FromMilliseconds(500), () => 0);
        await WaitUntilAsync(async () => await rig.LedgerCountAsync(window) >= 1000, TimeSpan.FromSeconds(60));

        await TableGoneAsync(rig, window, TimeSpan.FromSeconds(4), () => 0);
        await publishing;
        HashSet<Guid> persisted = [];
        List<Guid> dead = [];
        await WaitUntilAsync(
            async () =>
            {
                persisted = await PersistedAsync(rig, window);
                dead = await DeadLetteredAsync(rig, window);
                return persisted.Union(dead).Count() >= votes.Count;
            },
            TimeSpan.FromSeconds(120),
            () => $"{persisted.Count} persisted, {dead.Count} dead-lettered, {votes.Count - persisted.Union(dead).Count()} of {votes.Count} in neither");
        var both = persisted.Intersect(dead).Count();
        output.WriteLine($"{persisted.Count} persisted, {dead.Count} dead-lettered ({dead.Distinct().Count()} distinct, {both} also persisted) of {votes.Count}");

        Assert.NotEmpty(dead);
        Assert.NotEmpty(persisted);
        Assert.Equal(all, persisted.Union(dead).ToHashSet());

        var (code, text) = await DlqAsync(rig, "replay", "--window", window);
        output.WriteLine(text);
        Assert.Equal(0, code);
        Assert.Contains($"replayed {dead.Count} dead letters from {Topics.VotesDeadLetter} to {Topics.Votes}", text, StringComparison.Ordinal);
        Assert.Empty(await DeadLetteredAsync(rig, window));

        // The tally has consumed everything on `votes`, the replays included (so a replayed vote that was already in
        // the ledger has been handled too, and was not counted again).
        await WaitUntilAsync(
            async () => await DrainedAsync(rig),
            TimeSpan.FromSeconds(120),
            () => $"the tally's group has not consumed `{Topics.Votes}`; ledger has {persisted.Count} of the window's votes");
        persisted = await PersistedAsync(rig, window);
        Assert.Equal(all, persisted);
        var (rows, counts, total) = await rig.CompareAsync(window);
        Assert.Equal(rows, counts);
        Assert.Equal(votes.Count, rows.Values.Sum());
        Assert.Equal(votes.Count, total);
        Assert.Empty(await DeadLetteredAsync(rig, window));

        (code, text) = await DlqAsync(rig, "replay", "--window", window);
        Assert.Equal(0, code);
        Assert.Contains("replayed 0 dead letters", text, StringComparison.Ordinal);
    }

    /// <summary>Runs `fanvote dlq ...` (FanVote.Cli) against the rig's Redis; exit code and everything it printed.</summary>
    private static async Task<(int Code, string Text)> DlqAsync(TallyRig rig, params string[] args)
    {
        using var output = new StringWriter();
        var code = await FanVote.Cli.Cli.RunAsync(["dlq", .. args, "--redis", rig.Redis.Address], output, output);
        return (code, output.ToString());
    }

    /// <summary>True when the tally's consumer group on `votes` has every entry delivered and acknowledged.</summary>
    private static async Task<bool> DrainedAsync(TallyRig rig)
    {
        await using var mux = await TestRedis.ConnectAsync(rig.Redis.Address);
        var db = mux.GetDatabase();
        var last = await db.StreamRangeAsync(Topics.Votes, "-", "+", 1, Order.Descending);
        var group = (await db.StreamGroupInfoAsync(Topics.Votes)).Single(g => g.Name == AppIds.Tally);
        return group.PendingMessageCount == 0 && (last.Length == 0 || group.LastDeliveredId == last[0].Id);
    }

    /// <summary>Publishes in chunks of 500 with a pause between them, so the burst spans the outage.</summary>
    private static async Task PublishPacedAsync(TallyRig rig, IReadOnlyList<VoteAccepted> votes, TimeSpan pause, Func<int> onChunk)
    {
        foreach (var chunk in votes.Chunk(500))
        {
            await rig.PublishAsync(chunk);
            onChunk();
            await Task.Delay(pause);
        }
    }

    /// <summary>Renames the ledger table away for <paramref name="outage"/>; rows of the window before and after, and votes published meanwhile.</summary>
    private static async Task<(long AtStart, long AtEnd, long PublishedDuring)> TableGoneAsync(TallyRig rig, string window, TimeSpan outage, Func<long> publishedSoFar)
    {
        await using var db = NpgsqlDataSource.Create(rig.Db.ConnectionString);
        await using (var off = db.CreateCommand($"ALTER TABLE votes RENAME TO {Offline}"))
        {
            await off.ExecuteNonQueryAsync();
        }

        var publishedBefore = publishedSoFar();
        var atStart = await CountAsync(db, Offline, window);
        await Task.Delay(outage);
        var atEnd = await CountAsync(db, Offline, window);
        var publishedDuring = publishedSoFar() - publishedBefore;
        await using (var on = db.CreateCommand($"ALTER TABLE {Offline} RENAME TO votes"))
        {
            await on.ExecuteNonQueryAsync();
        }

        return (atStart, atEnd, publishedDuring);
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string table, string window)
    {
        await using var cmd = db.CreateCommand($"SELECT count(*) FROM {table} WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<HashSet<Guid>> PersistedAsync(TallyRig rig, string window)
    {
        await using var db = NpgsqlDataSource.Create(rig.Db.ConnectionString);
        await using var cmd = db.CreateCommand("SELECT vote_id FROM votes WHERE window_id = $1");
        cmd.Parameters.AddWithValue(window);
        var ids = new HashSet<Guid>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            Assert.True(ids.Add(r.GetGuid(0)), "a vote id appears twice in the ledger");
        }

        return ids;
    }

    /// <summary>
    /// Vote ids of the window on the `votes-dlq` stream (each entry is the original CloudEvent), in stream order; a
    /// vote can be there more than once (a dead-lettered batch redelivered before its acknowledgement).
    /// </summary>
    private static async Task<List<Guid>> DeadLetteredAsync(TallyRig rig, string window)
    {
        await using var mux = await TestRedis.ConnectAsync(rig.Redis.Address);
        var ids = new List<Guid>();
        foreach (var e in await mux.GetDatabase().StreamRangeAsync(Topics.VotesDeadLetter))
        {
            using var ce = JsonDocument.Parse((string)e["data"]!);
            var vote = ce.RootElement.GetProperty("data").Deserialize<VoteAccepted>(FanVoteJson.Options)!;
            if (vote.WindowId == window)
            {
                ids.Add(vote.VoteId);
            }
        }

        return ids;
    }

    /// <summary>fanvote.tally.batches_retried from the tally's Prometheus endpoint.</summary>
    private static async Task<double> RetriedBatchesAsync(TallyRig rig)
    {
        var text = await rig.Tally.Internal.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return text.Split('\n')
            .Where(l => l.StartsWith("fanvote_tally_batches_retried", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string>? seen = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {timeout.TotalSeconds:F0} s{(seen is null ? "" : ": " + seen())}");
            await Task.Delay(200);
        }
    }
}
