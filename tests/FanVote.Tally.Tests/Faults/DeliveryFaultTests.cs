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
/// retry budget shorter than the outage the dead-letter stream holds exactly the votes that were not persisted.
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

    [Fact]
    public async Task Outage_RetryBudgetShorterThanIt_DeadLetterStreamHoldsExactlyTheVotesNotPersisted()
    {
        var resources = ResourceFolder.LocalComponents();
        var resiliency = await File.ReadAllTextAsync(Path.Combine(resources.Path, "resiliency.yaml"), TestContext.Current.CancellationToken);
        const string Deliver = "      deliver:\n        policy: exponential\n        maxInterval: 10s\n        maxRetries: 30\n";
        Assert.Contains(Deliver, resiliency, StringComparison.Ordinal);
        resources.With("resiliency.yaml", resiliency.Replace(Deliver, "      deliver:\n        policy: constant\n        duration: 100ms\n        maxRetries: 2\n", StringComparison.Ordinal));
        await using var rig = TallyRig.On(resources);
        await rig.InitializeAsync();
        var window = "budget-" + Guid.NewGuid().ToString("N")[..8];
        var votes = TallyRig.Votes(window, 6000, candidates: 3);
        var publishing = PublishPacedAsync(rig, votes, TimeSpan.FromMilliseconds(500), () => 0);
        await WaitUntilAsync(async () => await rig.LedgerCountAsync(window) >= 1000, TimeSpan.FromSeconds(60));

        await TableGoneAsync(rig, window, TimeSpan.FromSeconds(4), () => 0);
        await publishing;
        HashSet<Guid> persisted = [];
        HashSet<Guid> dead = [];
        await WaitUntilAsync(
            async () =>
            {
                persisted = await PersistedAsync(rig, window);
                dead = await DeadLetteredAsync(rig, window);
                return persisted.Count + dead.Count >= votes.Count;
            },
            TimeSpan.FromSeconds(90));
        output.WriteLine($"{persisted.Count} persisted, {dead.Count} dead-lettered of {votes.Count}");

        Assert.NotEmpty(dead);
        Assert.NotEmpty(persisted);
        Assert.Empty(dead.Intersect(persisted));
        Assert.Equal(votes.Select(v => v.VoteId).ToHashSet(), persisted.Union(dead).ToHashSet());
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

    /// <summary>Vote ids of the window on the `votes-dlq` stream (each entry is the original CloudEvent).</summary>
    private static async Task<HashSet<Guid>> DeadLetteredAsync(TallyRig rig, string window)
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(rig.Redis.Address);
        var ids = new HashSet<Guid>();
        foreach (var e in await mux.GetDatabase().StreamRangeAsync(Topics.VotesDeadLetter))
        {
            using var ce = JsonDocument.Parse((string)e["data"]!);
            var vote = ce.RootElement.GetProperty("data").Deserialize<VoteAccepted>(FanVoteJson.Options)!;
            if (vote.WindowId == window)
            {
                Assert.True(ids.Add(vote.VoteId), $"vote {vote.VoteId} was dead-lettered twice");
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

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {timeout.TotalSeconds:F0} s");
            await Task.Delay(200);
        }
    }
}
