using FanVote.Results.Core;
using FanVote.ServiceDefaults.Auth;
using FanVote.Results.Streaming;

namespace FanVote.Results;

public static class ResultsExtensions
{
    public static WebApplicationBuilder AddResults(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<FanVote.ServiceDefaults.IFanDataHolder, Privacy.ResultsFanData>();
        builder.Services.AddOptions<ResultsOptions>().BindConfiguration("Results").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ResultsBoard>();
        builder.Services.AddSingleton<AuditorKey>();
        builder.Services.ResolveOnStart<AuditorKey>();
        builder.Services.AddSingleton<Receipts.ReceiptBook>();
        builder.Services.AddSingleton<ResultsHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ResultsHub>());
        // Many long-lived SSE connections: no Kestrel connection cap (default unlimited), a cap per client address instead
        // (ResultsOptions.MaxStreamsPerClient); each stream costs one small channel, no thread and no timer.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        return builder;
    }
}
