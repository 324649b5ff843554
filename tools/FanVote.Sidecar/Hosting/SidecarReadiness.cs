namespace FanVote.Sidecar.Hosting;

/// <summary>
/// Outbound ready = components loaded and the API up (what WaitForSidecarAsync waits for); ready = also the
/// app reached, its /dapr/config and /dapr/subscribe read and consumers started.
/// </summary>
public sealed class SidecarReadiness
{
    private volatile bool _outbound;
    private volatile bool _ready;

    public bool OutboundReady => _outbound;

    public bool Ready => _ready;

    public void MarkOutboundReady() => _outbound = true;

    public void MarkReady() => _ready = true;
}

/// <summary>
/// A piece of the sidecar that needs the app before it can run (actors read /dapr/config, subscriptions
/// read /dapr/subscribe). Run in <see cref="Order"/> once the app port accepts connections.
/// </summary>
public interface IAppStartupParticipant
{
    int Order { get; }

    string Name { get; }

    Task OnAppReadyAsync(CancellationToken cancellationToken);
}
