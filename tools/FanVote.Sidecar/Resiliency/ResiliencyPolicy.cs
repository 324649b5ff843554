using System.Runtime.ExceptionServices;
using FanVote.Sidecar.Components;
using Grpc.Core;

namespace FanVote.Sidecar.Resiliency;

/// <summary>An error that carries the HTTP and/or gRPC status code it stands for, for <c>matching</c>.</summary>
public interface IStatusCodeError
{
    int? HttpStatusCode { get; }

    int? GrpcStatusCode { get; }
}

/// <summary>An error that must not be retried whatever the policy says.</summary>
public sealed class PermanentFailureException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Thrown when one attempt ran longer than the policy's timeout.</summary>
public sealed class ResiliencyTimeoutException(TimeSpan timeout)
    : TimeoutException($"the operation did not complete within the resiliency timeout of {timeout.TotalMilliseconds:0} ms");

/// <summary>
/// Timeout + retry + circuit breaker for one target, applied the way daprd's policy runner does: the timeout
/// bounds each attempt, the breaker sees every attempt, an open breaker and a <see cref="PermanentFailureException"/>
/// end the retries at once, and cancellation of the caller's token is never retried.
/// </summary>
public sealed class ResiliencyPolicy
{
    private readonly TimeProvider _time;

    public ResiliencyPolicy(ResolvedPolicy resolved, CircuitBreaker? breaker, TimeProvider time, Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        ArgumentNullException.ThrowIfNull(time);
        Resolved = resolved;
        Breaker = breaker;
        _time = time;
        Random = random ?? System.Random.Shared.NextDouble;
    }

    public static ResiliencyPolicy None { get; } = new(ResolvedPolicy.Empty, null, TimeProvider.System);

    public ResolvedPolicy Resolved { get; }

    public CircuitBreaker? Breaker { get; }

    public RetryPolicySpec? Retry => Resolved.Retry;

    /// <summary>True when a failure can be retried at all (a retry policy with maxRetries ≠ 0).</summary>
    public bool Retries => Retry is { MaxRetries: not 0 };

    private Func<double> Random { get; }

    public Task ExecuteAsync(Func<CancellationToken, Task> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteAsync<bool>(
            async ct =>
            {
                await operation(ct);
                return true;
            },
            cancellationToken);
    }

    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var started = _time.GetTimestamp();
        var retries = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Breaker?.BeforeRequest();
            Exception failure;
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                if (Resolved.Timeout is { } t && t > TimeSpan.Zero)
                {
                    attempt.CancelAfter(t);
                }

                try
                {
                    var result = await operation(attempt.Token);
                    Breaker?.OnSuccess();
                    return result;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && attempt.IsCancellationRequested)
                {
                    failure = new ResiliencyTimeoutException(Resolved.Timeout!.Value);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = e;
                }
            }

            Breaker?.OnFailure();
            if (Retry is null || !ShouldRetry(Retry, failure) || !RetryBackoff.CanRetry(Retry, retries, _time.GetElapsedTime(started)))
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            await Task.Delay(RetryBackoff.Delay(Retry, retries, Random()), _time, cancellationToken);
            retries++;
        }
    }

    /// <summary>Whether <paramref name="failure"/> may be retried under <paramref name="retry"/>'s <c>matching</c>.</summary>
    public static bool ShouldRetry(RetryPolicySpec retry, Exception failure)
    {
        ArgumentNullException.ThrowIfNull(retry);
        ArgumentNullException.ThrowIfNull(failure);
        if (failure is PermanentFailureException or CircuitBreakerOpenException)
        {
            return false;
        }

        if (retry.Matching is not { } m)
        {
            return true;
        }

        return failure switch
        {
            IStatusCodeError { HttpStatusCode: { } http } => m.MatchesHttp(http),
            IStatusCodeError { GrpcStatusCode: { } grpc } => m.MatchesGrpc(grpc),
            RpcException rpc => m.MatchesGrpc((int)rpc.StatusCode),
            _ => true,
        };
    }
}
