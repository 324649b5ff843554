using FanVote.Results.Core;
using FanVote.Results.Streaming;

namespace FanVote.Results;

public static class ResultsExtensions
{
    public static WebApplicationBuilder AddResults(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ResultsBoard>();
        builder.Services.AddSingleton<Receipts.ReceiptBook>();
        builder.Services.AddSingleton<ResultsHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ResultsHub>());
        // Many long-lived SSE connections: lift Kestrel's connection cap (default unlimited) but keep the
        // request rate limits sane; each stream costs one small channel, no thread and no timer.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        return builder;
    }
}
