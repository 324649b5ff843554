using FanVote.Sidecar.Components;
using FanVote.Sidecar.Resiliency;

namespace FanVote.Sidecar.Tests.Resiliency;

public sealed class ResiliencyTests
{
    private static RetryPolicySpec Constant(int maxRetries, int ms = 1, StatusCodeMatcher? matching = null) =>
        new("c", "constant", TimeSpan.FromMilliseconds(ms), TimeSpan.FromSeconds(60), maxRetries, matching);

    private static readonly RetryPolicySpec Exponential = new("e", "exponential", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2), -1, null);

    [Fact]
    public void BaseInterval_Exponential_Grows1Point5FromHalfSecondAndCapsAtMaxInterval()
    {
        var ms = Enumerable.Range(0, 6).Select(i => RetryBackoff.BaseInterval(Exponential, i).TotalMilliseconds).ToList();
        Assert.Equal([500, 750, 1125, 1687.5, 2000, 2000], ms);
    }

    [Fact]
    public void Delay_Exponential_JitterIsPlusMinusHalf()
    {
        Assert.Equal(375, RetryBackoff.Delay(Exponential, 1, 0).TotalMilliseconds);
        Assert.Equal(750, RetryBackoff.Delay(Exponential, 1, 0.5).TotalMilliseconds);
        Assert.Equal(1125, RetryBackoff.Delay(Exponential, 1, 1).TotalMilliseconds, 3);
        Assert.Equal(TimeSpan.FromMilliseconds(7), RetryBackoff.Delay(Constant(3, 7), 5, 0.9));
    }

    [Fact]
    public void CanRetry_MaxRetriesAndElapsedBudget()
    {
        Assert.True(RetryBackoff.CanRetry(Constant(2), 1, TimeSpan.FromHours(1)));
        Assert.False(RetryBackoff.CanRetry(Constant(2), 2, TimeSpan.Zero));
        Assert.False(RetryBackoff.CanRetry(Constant(0), 0, TimeSpan.Zero));
        Assert.True(RetryBackoff.CanRetry(Constant(-1), 1_000_000, TimeSpan.FromHours(1)));
        Assert.True(RetryBackoff.CanRetry(Exponential, 50, TimeSpan.FromMinutes(14)));
        Assert.False(RetryBackoff.CanRetry(Exponential, 50, TimeSpan.FromMinutes(15)));
    }

    [Fact]
    public async Task ExecuteAsync_FailsTwiceThenSucceeds_ThreeAttempts()
    {
        var policy = new ResiliencyPolicy(new ResolvedPolicy(Constant(5), null, null), null, TimeProvider.System);
        var attempts = 0;
        var result = await policy.ExecuteAsync(
            _ => ++attempts < 3 ? throw new InvalidOperationException("boom") : Task.FromResult(42),
            TestContext.Current.CancellationToken);
        Assert.Equal(42, result);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task ExecuteAsync_MaxRetriesExhausted_ThrowsLastErrorAfterOnePlusMaxRetriesAttempts()
    {
        var policy = new ResiliencyPolicy(new ResolvedPolicy(Constant(2), null, null), null, TimeProvider.System);
        var attempts = 0;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => policy.ExecuteAsync(
            _ => throw new InvalidOperationException($"attempt {++attempts}"),
            TestContext.Current.CancellationToken));
        Assert.Equal("attempt 3", e.Message);
    }

    [Fact]
    public async Task ExecuteAsync_MatchingExcludesStatus_NotRetried()
    {
        var matching = new StatusCodeMatcher([(500, 599)], []);
        var policy = new ResiliencyPolicy(new ResolvedPolicy(Constant(5, matching: matching), null, null), null, TimeProvider.System);
        var attempts = 0;
        await Assert.ThrowsAsync<HttpStatusError>(() => policy.ExecuteAsync(
            _ =>
            {
                attempts++;
                throw new HttpStatusError(404);
            },
            TestContext.Current.CancellationToken));
        Assert.Equal(1, attempts);

        attempts = 0;
        await Assert.ThrowsAsync<HttpStatusError>(() => policy.ExecuteAsync(
            _ =>
            {
                attempts++;
                throw new HttpStatusError(503);
            },
            TestContext.Current.CancellationToken));
        Assert.Equal(6, attempts);
    }

    [Fact]
    public async Task ExecuteAsync_AttemptLongerThanTimeout_TimesOutAndRetries()
    {
        var policy = new ResiliencyPolicy(new ResolvedPolicy(Constant(1), TimeSpan.FromMilliseconds(50), null), null, TimeProvider.System);
        var attempts = 0;
        await Assert.ThrowsAsync<ResiliencyTimeoutException>(() => policy.ExecuteAsync(
            async ct =>
            {
                attempts++;
                await Task.Delay(5000, ct);
            },
            TestContext.Current.CancellationToken));
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task CircuitBreaker_TripsAfterConsecutiveFailures_HalfOpensAfterTimeout()
    {
        var time = new ManualTime();
        var breaker = new CircuitBreaker(new CircuitBreakerSpec("cb", 1, TimeSpan.Zero, TimeSpan.FromSeconds(30), "consecutiveFailures >= 3"), time);
        var policy = new ResiliencyPolicy(new ResolvedPolicy(null, null, null), breaker, time);
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => policy.ExecuteAsync(_ => throw new InvalidOperationException(), TestContext.Current.CancellationToken));
        }

        Assert.Equal(CircuitBreaker.State.Open, breaker.CurrentState);
        var ran = false;
        await Assert.ThrowsAsync<CircuitBreakerOpenException>(() => policy.ExecuteAsync(
            _ =>
            {
                ran = true;
                return Task.CompletedTask;
            },
            TestContext.Current.CancellationToken));
        Assert.False(ran);

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(CircuitBreaker.State.HalfOpen, breaker.CurrentState);
        await policy.ExecuteAsync(_ => Task.CompletedTask, TestContext.Current.CancellationToken);
        Assert.Equal(CircuitBreaker.State.Closed, breaker.CurrentState);
    }

    [Fact]
    public void ParseTrip_GreaterThan_TripsOnlyAboveN()
    {
        var trip = CircuitBreaker.ParseTrip("consecutiveFailures > 5");
        Assert.False(trip(new CircuitBreaker.Counts { ConsecutiveFailures = 5 }));
        Assert.True(trip(new CircuitBreaker.Counts { ConsecutiveFailures = 6 }));
        Assert.Throws<ResourceException>(() => CircuitBreaker.ParseTrip("size(requests) > 1"));
    }

    [Fact]
    public void Resolve_ComponentTargetWinsOverDefaults_DefaultsMostSpecificFirst()
    {
        var spec = Spec(
            retries: ["deliver", "DefaultPubsubComponentInboundRetryPolicy", "DefaultComponentRetryPolicy", "DefaultRetryPolicy"],
            components: new() { ["bus"] = new ComponentTarget(new PolicyRef("5s", "deliver", null), null) });

        var inbound = PolicyResolver.Resolve([spec], PolicyTarget.Component("bus", "pubsub", ComponentDirection.Inbound));
        Assert.Equal("deliver", inbound.Retry!.Name);
        Assert.Equal(TimeSpan.FromSeconds(5), inbound.Timeout);

        var otherBus = PolicyResolver.Resolve([spec], PolicyTarget.Component("other", "pubsub", ComponentDirection.Inbound));
        Assert.Equal("DefaultPubsubComponentInboundRetryPolicy", otherBus.Retry!.Name);

        var store = PolicyResolver.Resolve([spec], PolicyTarget.Component("store", "state", ComponentDirection.Outbound));
        Assert.Equal("DefaultComponentRetryPolicy", store.Retry!.Name);

        var app = PolicyResolver.Resolve([spec], PolicyTarget.App("x"));
        Assert.Equal("DefaultRetryPolicy", app.Retry!.Name);
        Assert.Null(PolicyResolver.Resolve([], PolicyTarget.App("x")).Retry);
    }

    [Fact]
    public void DefaultNames_PubsubInbound_FollowDaprOrder()
    {
        Assert.Equal(
            ["DefaultPubsubComponentInboundRetryPolicy", "DefaultComponentInboundRetryPolicy", "DefaultComponentRetryPolicy", "DefaultRetryPolicy"],
            PolicyResolver.DefaultNames(PolicyTarget.Component("b", "pubsub", ComponentDirection.Inbound), "Retry"));
        Assert.Equal(
            ["DefaultStatestoreComponentOutboundTimeoutPolicy", "DefaultComponentOutboundTimeoutPolicy", "DefaultComponentTimeoutPolicy", "DefaultTimeoutPolicy"],
            PolicyResolver.DefaultNames(PolicyTarget.Component("s", "state", ComponentDirection.Outbound), "Timeout"));
    }

    private static ResiliencySpec Spec(string[] retries, Dictionary<string, ComponentTarget> components) =>
        new(
            "r",
            [],
            new Dictionary<string, TimeSpan>(),
            retries.ToDictionary(n => n, n => Constant(3) with { Name = n }),
            new Dictionary<string, CircuitBreakerSpec>(),
            new Dictionary<string, PolicyRef>(),
            new Dictionary<string, PolicyRef>(),
            components,
            "test.yaml");

    private sealed class HttpStatusError(int code) : Exception($"status {code}"), IStatusCodeError
    {
        public int? HttpStatusCode { get; } = code;

        public int? GrpcStatusCode => null;
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
