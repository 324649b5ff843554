using System.Diagnostics;
using FanVote.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace FanVote.ServiceDefaults.Tests;

/// <summary>
/// <see cref="FanVoteTracing"/>: off unless the standard OTEL_* variables name an endpoint; bad traceparents are ignored;
/// a batch span continues the first trace it carries and links the others, boundedly. (The whole path across the
/// services: FanVote.EndToEnd.Tests/TracingTests.)
/// </summary>
public sealed class TracingTests
{
    private static IConfiguration Config(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void Enabled_NothingSet_Off() => Assert.False(FanVoteTracing.Enabled(Config()));

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")]
    public void Enabled_AnEndpoint_On(string key) => Assert.True(FanVoteTracing.Enabled(Config((key, "http://collector:4318"))));

    [Theory]
    [InlineData("OTEL_SDK_DISABLED", "true")]
    [InlineData("OTEL_SDK_DISABLED", "TRUE")]
    [InlineData("OTEL_TRACES_EXPORTER", "none")]
    public void Enabled_AnEndpointButSwitchedOff_Off(string key, string value) =>
        Assert.False(FanVoteTracing.Enabled(Config(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"), (key, value))));

    [Fact]
    public void Parse_W3cTraceparent_ItsContext_AndAnythingElseIsIgnored()
    {
        var c = FanVoteTracing.Parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        Assert.NotNull(c);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", c.Value.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", c.Value.SpanId.ToHexString());
        Assert.True(c.Value.IsRemote);
        foreach (var bad in new[] { null, "", "garbage", "00-aa-bb-01", "00-00000000000000000000000000000000-b7ad6b7169203331-01" })
        {
            Assert.Null(FanVoteTracing.Parse(bad));
        }
    }

    [Fact]
    public void StartForMany_NoListener_NoSpan()
    {
        var c = FanVoteTracing.Parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")!.Value;
        Assert.False(FanVoteTracing.IsOn);
        Assert.Null(FanVoteTracing.StartForMany("publish votes", ActivityKind.Producer, [c]));
    }

    [Fact]
    public void StartForMany_ContinuesTheFirstTrace_LinksOtherTraces_AtMostMaxLinks()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == FanVoteTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        Assert.True(FanVoteTracing.IsOn);
        var contexts = Enumerable.Range(0, 100)
            .Select(_ => new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true))
            .ToList();
        contexts.Insert(1, new ActivityContext(contexts[0].TraceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true));

        using (var span = FanVoteTracing.StartForMany("deliver votes", ActivityKind.Consumer, contexts))
        {
            Assert.NotNull(span);
            Assert.Equal(contexts[0].TraceId, span.TraceId);
            Assert.Equal(contexts[0].SpanId, span.ParentSpanId);
            Assert.Equal(ActivityKind.Consumer, span.Kind);
            var links = span.Links.Select(l => l.Context.TraceId).ToList();
            Assert.Equal(FanVoteTracing.MaxLinks - 1, links.Count); // the second context shares the parent's trace: no link
            Assert.DoesNotContain(contexts[0].TraceId, links);
            Assert.Equal(contexts.Skip(2).Take(FanVoteTracing.MaxLinks - 1).Select(c => c.TraceId), links);
        }

        using var alone = FanVoteTracing.StartForMany("publish tally-updated", ActivityKind.Producer, []);
        Assert.NotNull(alone);
        Assert.Equal(default, alone.ParentSpanId);
        Assert.Empty(alone.Links);
    }
}
