namespace FanVote.Ingress.Core.Tests;

public sealed class GroupCommitTests
{
    [Fact]
    public async Task Items_QueuedWhileWorkerBusy_GoOutTogetherInOneBatch()
    {
        var batches = new List<List<int>>();
        var firstStarted = new TaskCompletionSource();
        var releaseFirst = new TaskCompletionSource();
        var seen = 0;
        var allSeen = new TaskCompletionSource();
        var commit = new GroupCommit<int>(100, 50, async (batch, _) =>
        {
            lock (batches)
            {
                batches.Add([.. batch]);
            }

            if (batches.Count == 1)
            {
                firstStarted.SetResult();
                await releaseFirst.Task;
            }

            if (Interlocked.Add(ref seen, batch.Count) == 11)
            {
                allSeen.SetResult();
            }
        });
        using var stop = new CancellationTokenSource();
        var run = commit.RunAsync(1, stop.Token);

        Assert.True(commit.TryEnqueue(0));
        await firstStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        for (var i = 1; i <= 10; i++)
        {
            Assert.True(commit.TryEnqueue(i));
        }

        Assert.Equal(10, commit.Count);
        releaseFirst.SetResult();
        await allSeen.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await run;

        Assert.Equal([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]], batches);
    }

    [Fact]
    public async Task Batches_NeverExceedMaxBatch_AndEveryItemIsProcessedOnce()
    {
        var processed = new List<int>();
        var maxSeen = 0;
        var done = new TaskCompletionSource();
        var commit = new GroupCommit<int>(10_000, 7, async (batch, _) =>
        {
            await Task.Yield();
            lock (processed)
            {
                maxSeen = Math.Max(maxSeen, batch.Count);
                processed.AddRange(batch);
                if (processed.Count == 1000)
                {
                    done.SetResult();
                }
            }
        });
        using var stop = new CancellationTokenSource();
        var run = commit.RunAsync(3, stop.Token);

        for (var i = 0; i < 1000; i++)
        {
            Assert.True(commit.TryEnqueue(i));
        }

        await done.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await run;

        Assert.InRange(maxSeen, 1, 7);
        Assert.Equal(Enumerable.Range(0, 1000), processed.Order());
    }

    [Fact]
    public void TryEnqueue_QueueFull_ReturnsFalse()
    {
        var commit = new GroupCommit<int>(2, 10, (_, _) => Task.CompletedTask);

        Assert.True(commit.TryEnqueue(1));
        Assert.True(commit.TryEnqueue(2));
        Assert.False(commit.TryEnqueue(3));
    }
}
