using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FanVote.Bench;

/// <summary>
/// The baseline: a bare ASP.NET Core endpoint that reads the vote body and answers 202 with a body of the same
/// shape as ingress's, no checks, no broker. The ratio ingress/bare is the figure of the pipeline benchmark.
/// </summary>
public static class BareEndpoint
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{args.Number("port", 5090).ToString(CultureInfo.InvariantCulture)}");
        var app = builder.Build();
        app.MapPost("/v1/windows/{windowId}/votes", async (HttpRequest req) =>
        {
            using var body = new StreamReader(req.Body);
            await body.ReadToEndAsync();
            return Results.Text($$"""{"voteId":"{{Guid.CreateVersion7()}}","receipt":"r1.bare"}""", "application/json", statusCode: 202);
        });
        await app.RunAsync();
        return 0;
    }
}
