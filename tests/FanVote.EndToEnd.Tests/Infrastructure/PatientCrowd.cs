using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FanVote.Testing;

namespace FanVote.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Fans voting through an infrastructure outage as a well-behaved app does: every vote has its own Idempotency-Key, and
/// a 503 is retried with that same key after its Retry-After for as long as it takes (up to a generous deadline), so in
/// the end every vote is either accepted (202, its vote id recorded) or reported with the answer that stopped it. Counts
/// the 503s and checks that each carries Retry-After and a problem body.
/// </summary>
internal sealed class PatientCrowd(HttpClient ingress, string window, string[] candidates, int accounts, int votesPerAccount)
{
    /// <summary>Vote id → candidate, for every 202.</summary>
    public ConcurrentDictionary<Guid, string> Accepted { get; } = new();

    /// <summary>Idempotency-Key → the vote id its 202 carried (a key answered with two ids is reported in <see cref="Failures"/>).</summary>
    public ConcurrentDictionary<string, Guid> ByKey { get; } = new(StringComparer.Ordinal);

    /// <summary>What went wrong: answers other than 202 or 503, a 503 without Retry-After or problem+json, two ids for one key.</summary>
    public ConcurrentQueue<string> Failures { get; } = new();

    public int Unavailable;

    public int Votes => accounts * votesPerAccount;

    public async Task<string[]> SignInAsync()
    {
        using var gate = new SemaphoreSlim(32);
        return await Task.WhenAll(Enumerable.Range(0, accounts).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                using var r = await ingress.PostAsJsonAsync("/v1/sessions/guest", new { deviceId = $"{window}-device-{i}", consent = TestConsent.Fan });
                if (!r.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"guest sign-in {i} answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
                }

                return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    /// <summary>Casts every vote, <paramref name="concurrency"/> in flight; <paramref name="progress"/> gets the count of votes settled so far.</summary>
    public async Task VoteAsync(string[] tokens, int concurrency, TimeSpan perVoteDeadline, Action<int>? progress = null)
    {
        var next = -1;
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Votes)
            {
                var account = i % accounts;
                var candidate = candidates[(i * 7 + account) % candidates.Length];
                await CastAsync(tokens[account], $"{window}-{i}", candidate, $"10.{account % 200}.{account / 200 % 250}.{account % 7 + 1}", perVoteDeadline);
                progress?.Invoke(Interlocked.Increment(ref done));
            }
        })));
    }

    private async Task CastAsync(string token, string key, string candidate, string ip, TimeSpan perVoteDeadline)
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { candidateId = candidate }));
        var deadline = DateTime.UtcNow + perVoteDeadline;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/windows/{window}/votes") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("Idempotency-Key", key);
            request.Headers.Add("X-Forwarded-For", ip);
            HttpResponseMessage r;
            try
            {
                r = await ingress.SendAsync(request);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // No answer at all is a failure of ingress (it must answer 503 while its infrastructure is away).
                Failures.Enqueue($"{key}: no answer ({e.GetType().Name}: {e.Message})");
                return;
            }

            using (r)
            {
                if (r.StatusCode == HttpStatusCode.Accepted)
                {
                    var id = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("voteId").GetGuid();
                    Accepted[id] = candidate;
                    var first = ByKey.GetOrAdd(key, id);
                    if (first != id)
                    {
                        Failures.Enqueue($"{key}: accepted as {first} and again as {id}");
                    }

                    return;
                }

                last = $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}";
                if (r.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    Failures.Enqueue($"{key}: {last}");
                    return;
                }

                Interlocked.Increment(ref Unavailable);
                var wait = r.Headers.RetryAfter?.Delta;
                if (wait is null || r.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    Failures.Enqueue($"{key}: 503 without Retry-After or problem+json: {last}");
                }

                await Task.Delay(wait ?? TimeSpan.FromSeconds(1));
            }
        }

        Failures.Enqueue($"{key}: still not accepted after {perVoteDeadline.TotalSeconds:F0} s of retries; last answer {last}");
    }
}
