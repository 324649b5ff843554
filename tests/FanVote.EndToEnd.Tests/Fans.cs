using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FanVote.Testing;

namespace FanVote.EndToEnd.Tests;

/// <summary>
/// A crowd of fans voting through ingress the way real clients do: each vote has its own Idempotency-Key,
/// some requests are retried with the same key (a client that timed out), some whole requests are replayed
/// later (a flaky proxy), and 503/429 answers are retried. Records every vote id ingress accepted.
/// </summary>
internal sealed class Fans(HttpClient ingress, string window, string[] candidates, int accounts, int votesPerAccount)
{
    public ConcurrentDictionary<Guid, string> Accepted { get; } = new();

    public int Retries;

    public int Replays;

    public async Task<string[]> SignInAsync()
    {
        using var gate = new SemaphoreSlim(64);
        return await Task.WhenAll(Enumerable.Range(0, accounts).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                using var r = await ingress.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = $"{window}-device-{i}", consent = TestConsent.Fan });
                r.EnsureSuccessStatusCode();
                return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    /// <summary>Casts every vote, <paramref name="concurrency"/> in flight; calls <paramref name="progress"/> with the count done.</summary>
    public async Task VoteAsync(string[] tokens, int concurrency, Action<int>? progress = null)
    {
        var total = accounts * votesPerAccount;
        var next = -1;
        var done = 0;
        var replayLater = new ConcurrentQueue<(string Token, string Key, string Candidate, string Ip)>();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                var account = i % accounts;
                var candidate = candidates[(i * 7 + account) % candidates.Length];
                var key = $"{window}-{i}";
                var ip = $"10.{account % 200}.{account / 200 % 250}.{account % 7}";
                var id = await CastUntilAcceptedAsync(tokens[account], key, candidate, ip);
                if (i % 20 == 0)
                {
                    // The client never saw the answer and sends the same vote again at once.
                    Interlocked.Increment(ref Retries);
                    var again = await CastUntilAcceptedAsync(tokens[account], key, candidate, ip);
                    Assert.Equal(id, again);
                }

                if (i % 50 == 0)
                {
                    replayLater.Enqueue((tokens[account], key, candidate, ip));
                }

                progress?.Invoke(Interlocked.Increment(ref done));
            }
        }));

        foreach (var (token, key, candidate, ip) in replayLater)
        {
            Interlocked.Increment(ref Replays);
            await CastUntilAcceptedAsync(token, key, candidate, ip);
        }
    }

    private async Task<Guid> CastUntilAcceptedAsync(string token, string key, string candidate, string ip)
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { candidateId = candidate }));
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("Idempotency-Key", key);
            request.Headers.Add("X-Forwarded-For", ip);
            using var r = await ingress.SendAsync(request);
            if (r.StatusCode == HttpStatusCode.Accepted)
            {
                var id = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("voteId").GetGuid();
                Accepted[id] = candidate;
                return id;
            }

            if ((r.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests) && attempt < 50)
            {
                await Task.Delay(r.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
                continue;
            }

            throw new InvalidOperationException($"vote {key} answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        }
    }
}
