using System.Net.Sockets;
using FanVote.Sidecar.Configuration;

namespace FanVote.Sidecar.Hosting;

/// <summary>
/// The sidecar→app HTTP channel: base address from --app-channel-address/--app-port, APP_API_TOKEN sent as
/// `dapr-api-token`, and --app-max-concurrency enforced across every callback (deliveries, actor calls).
/// </summary>
public sealed class AppChannel : IDisposable
{
    private readonly SidecarOptions _options;
    private readonly SemaphoreSlim? _concurrency;

    public AppChannel(SidecarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 1024,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            UseCookies = false,
            AllowAutoRedirect = false,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (options.HasApp)
        {
            Http.BaseAddress = options.AppBaseUri;
        }

        _concurrency = options.AppMaxConcurrency > 0 ? new SemaphoreSlim(options.AppMaxConcurrency) : null;
    }

    public bool HasApp => _options.HasApp;

    /// <summary>Raw client (base address = the app). Prefer <see cref="SendAsync"/>, which adds the token and the concurrency limit.</summary>
    public HttpClient Http { get; }

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!HasApp)
        {
            throw new InvalidOperationException($"app '{_options.AppId}' has no --app-port; the sidecar cannot call it");
        }

        if (_options.AppApiToken is { } token)
        {
            request.Headers.Remove("dapr-api-token");
            request.Headers.TryAddWithoutValidation("dapr-api-token", token);
        }

        if (_concurrency is null)
        {
            return await Http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }

        await _concurrency.WaitAsync(cancellationToken);
        try
        {
            return await Http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        finally
        {
            _concurrency.Release();
        }
    }

    /// <summary>Waits until the app port accepts TCP connections (daprd does the same before /dapr/config).</summary>
    public async Task WaitForAppPortAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var client = new TcpClient();
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(TimeSpan.FromSeconds(1));
                await client.ConnectAsync(_options.AppChannelAddress, _options.AppPort!.Value, cts.Token);
                return;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    public void Dispose()
    {
        Http.Dispose();
        _concurrency?.Dispose();
    }
}
