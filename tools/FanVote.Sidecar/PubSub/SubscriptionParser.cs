using System.Globalization;
using System.Text.Json;
using FanVote.Sidecar.Components;

namespace FanVote.Sidecar.PubSub;

/// <summary>A subscription ready to run: its spec plus the compiled routing rules in evaluation order.</summary>
public sealed record CompiledSubscription(SubscriptionSpec Spec, IReadOnlyList<(RouteExpression Match, string Path)> Rules)
{
    public string Key => $"{Spec.PubsubName}/{Spec.Topic}";

    public bool Bulk => Spec.BulkSubscribe is { Enabled: true };

    /// <summary>The path every event goes to when the first rule matches everything; null when routing must read the event.</summary>
    public string? StaticRoute => Rules.Count > 0 && Rules[0].Match.AlwaysMatches ? Rules[0].Path : null;

    /// <summary>The path of the first rule that matches, or null (the message is then dropped).</summary>
    public string? Route(JsonElement cloudEvent)
    {
        foreach (var (match, path) in Rules)
        {
            if (match.Matches(cloudEvent))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>Compiles every rule; a rule outside the CEL subset fails with a message naming the subscription.</summary>
    public static CompiledSubscription Compile(SubscriptionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var rules = new List<(RouteExpression, string)>();
        foreach (var r in spec.Rules)
        {
            try
            {
                rules.Add((RouteExpression.Parse(r.Match), r.Path));
            }
            catch (FormatException e)
            {
                throw new ResourceException($"subscription to {spec.PubsubName}/{spec.Topic} ({spec.Source}): {e.Message}");
            }
        }

        return new CompiledSubscription(spec, rules);
    }
}

/// <summary>Parses the JSON array an app returns from <c>GET /dapr/subscribe</c> (keys case-insensitive, §4.1).</summary>
public static class SubscriptionParser
{
    public const string ProgrammaticSource = "GET /dapr/subscribe";

    public static IReadOnlyList<SubscriptionSpec> ParseProgrammatic(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("GET /dapr/subscribe must return a JSON array");
        }

        var list = new List<SubscriptionSpec>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var rules = new List<RouteRule>();
            string? def = null;
            if (Prop(e, "routes") is { ValueKind: JsonValueKind.Object } routes)
            {
                if (Prop(routes, "rules") is { ValueKind: JsonValueKind.Array } ruleArray)
                {
                    foreach (var r in ruleArray.EnumerateArray())
                    {
                        rules.Add(new RouteRule(Str(r, "match") ?? "", Str(r, "path") ?? ""));
                    }
                }

                def = Str(routes, "default");
            }

            // daprd: rules in order, then `default`; the v1 `route` only when there is no default.
            if (!string.IsNullOrEmpty(def))
            {
                rules.Add(new RouteRule("", def));
            }
            else if (Str(e, "route") is { Length: > 0 } route)
            {
                rules.Add(new RouteRule("", route));
            }

            var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (Prop(e, "metadata") is { ValueKind: JsonValueKind.Object } m)
            {
                foreach (var p in m.EnumerateObject())
                {
                    metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                }
            }

            BulkSubscribeSpec? bulk = null;
            if (Prop(e, "bulkSubscribe") is { ValueKind: JsonValueKind.Object } b)
            {
                bulk = new BulkSubscribeSpec(
                    Prop(b, "enabled") is { } en && (en.ValueKind == JsonValueKind.True || (en.ValueKind == JsonValueKind.String && bool.TryParse(en.GetString(), out var bb) && bb)),
                    Int(b, "maxMessagesCount") is { } n and > 0 ? n : 100,
                    Int(b, "maxAwaitDurationMs") is { } ms and > 0 ? ms : 1000);
            }

            list.Add(new SubscriptionSpec(
                Str(e, "pubsubName") ?? "",
                Str(e, "topic") ?? "",
                rules,
                Str(e, "deadLetterTopic") is { Length: > 0 } dlq ? dlq : null,
                bulk,
                metadata,
                [],
                ProgrammaticSource));
        }

        return list;
    }

    private static JsonElement? Prop(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var p in e.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value;
            }
        }

        return null;
    }

    private static string? Str(JsonElement e, string name) =>
        Prop(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static int? Int(JsonElement e, string name) => Prop(e, name) switch
    {
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var i) => i,
        { ValueKind: JsonValueKind.String } v when int.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
        _ => null,
    };
}
