using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;

namespace FanVote.Bench;

/// <summary>
/// `./fanvote bench trust`: what issue 11's checks cost on the vote path, per operation on one thread, beside a
/// baseline measured in the same run: serialising the <see cref="VoteAccepted"/> to JSON, which ingress does for every
/// vote anyway. Per vote, ingress checks the fan's session token and seals the vote; tally verifies the seal; each
/// sidecar → app delivery (a bulk of up to 100 votes) and each app → sidecar call carries a token compared in constant
/// time. CPU time of the process is reported too (the steadier figure on a busy machine).
/// </summary>
public static class TrustBench
{
    public static Task<int> RunAsync(BenchArgs args)
    {
        var n = args.Number("ops", 200_000);
        var key = RandomNumberGenerator.GetBytes(32);
        using var tokens = new SessionTokens([("k1", key), ("k0", RandomNumberGenerator.GetBytes(32))], TimeSpan.FromHours(1), TimeProvider.System);
        using var seal = new VoteSeal(RandomNumberGenerator.GetBytes(32));
        var token = tokens.Issue("acct-0123456789abcdef", "device-0123456789abcdef", SessionKind.Otp, DateTimeOffset.UtcNow.AddDays(-30), FanConsent.Voting);
        var at = DateTimeOffset.UtcNow;
        var vote = new VoteAccepted
        {
            EventId = Guid.CreateVersion7(at), OccurredAt = at, VoteId = Guid.CreateVersion7(at), WindowId = "final-2026", CandidateId = "aurora",
            AccountId = "acct-0123456789abcdef", DeviceId = "device-0123456789abcdef", Ip = "203.0.113.77", AccountCreatedAt = at.AddDays(-30), Seal = "",
        };
        var sealed_ = vote with { Seal = Seal(seal, vote) };
        var appToken = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var appTokenDigest = SHA256.HashData(Encoding.UTF8.GetBytes(appToken));

        Console.WriteLine($"trust checks, {n:N0} operations each, one thread (µs per operation: wall / process CPU)");
        var baseline = Measure("baseline: VoteAccepted → JSON (ingress does this per vote)", n, () => JsonSerializer.SerializeToUtf8Bytes(sealed_, FanVoteJson.Options).Length);
        var validate = Measure("session token validated (ingress, per vote)", n, () => (int)tokens.Validate(token, out _));
        var sealOne = Measure("vote sealed, HMAC-SHA256 (ingress, per vote)", n, () => Seal(seal, vote).Length);
        var verify = Measure("seal verified (tally, per vote)", n, () => Verify(seal, sealed_) ? 1 : 0);
        var compare = Measure("app/API token compared, SHA-256 + constant time (per delivery or call)", n,
            () => CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(appToken)), appTokenDigest) ? 1 : 0);

        var perVote = validate.Cpu + sealOne.Cpu + verify.Cpu + compare.Cpu / 100 * 2;
        Console.WriteLine();
        Console.WriteLine($"per vote (token + seal + verify + two token compares per bulk of 100): {perVote:F2} µs CPU, {perVote / baseline.Cpu:F1}× the JSON baseline");
        return Task.FromResult(0);
    }

    private static string Seal(VoteSeal seal, VoteAccepted v) =>
        seal.Seal(v.VoteId, v.WindowId, v.CandidateId, v.AccountId, v.DeviceId, v.Ip, v.OccurredAt, v.AccountCreatedAt);

    private static bool Verify(VoteSeal seal, VoteAccepted v) =>
        seal.Verify(v.Seal, v.VoteId, v.WindowId, v.CandidateId, v.AccountId, v.DeviceId, v.Ip, v.OccurredAt, v.AccountCreatedAt);

    private static (double Wall, double Cpu) Measure(string what, int n, Func<int> op)
    {
        var sink = 0;
        for (var i = 0; i < Math.Min(n, 20_000); i++)
        {
            sink += op(); // warm-up: tiered JIT settles
        }

        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            sink += op();
        }

        wall.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpu0).TotalMicroseconds / n;
        var w = wall.Elapsed.TotalMicroseconds / n;
        Console.WriteLine($"  {what,-75} {w,7:F2} / {cpu,7:F2}{(sink == int.MinValue ? " " : "")}");
        return (w, cpu);
    }
}
