using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace FanVote.Components.Tests.Checks;

/// <summary>A YAML document as nested dictionaries and lists with string keys, and the file it came from.</summary>
public sealed record YamlDoc(IReadOnlyDictionary<string, object?> Root, string File)
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    /// <summary>Every mapping document of a (multi-document) YAML file.</summary>
    public static IReadOnlyList<YamlDoc> ReadAll(string file)
    {
        using var reader = new StreamReader(file);
        var parser = new Parser(reader);
        parser.Consume<StreamStart>();
        var docs = new List<YamlDoc>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (Deserializer.Deserialize<object?>(parser) is Dictionary<object, object?> map)
            {
                docs.Add(new YamlDoc(Normalize(map), file));
            }
        }

        return docs;
    }

    public string? Kind => Str(Root, "kind");

    public string? Name => Str(Map(Root, "metadata"), "name");

    /// <summary>The value at a dotted path of mapping keys (e.g. "spec.template.metadata"), or null.</summary>
    public object? At(string path)
    {
        object? current = Root;
        foreach (var key in path.Split('.'))
        {
            current = current is IReadOnlyDictionary<string, object?> m && m.TryGetValue(key, out var v) ? v : null;
        }

        return current;
    }

    public static IReadOnlyDictionary<string, object?> Map(object? node, string key) =>
        node is IReadOnlyDictionary<string, object?> m && m.TryGetValue(key, out var v) && v is IReadOnlyDictionary<string, object?> d
            ? d
            : new Dictionary<string, object?>();

    public static IReadOnlyList<object?> List(object? node, string key) =>
        node is IReadOnlyDictionary<string, object?> m && m.TryGetValue(key, out var v) && v is IReadOnlyList<object?> l ? l : [];

    public static string? Str(object? node, string key) =>
        node is IReadOnlyDictionary<string, object?> m && m.TryGetValue(key, out var v) && v is string s ? s : null;

    private static Dictionary<string, object?> Normalize(Dictionary<object, object?> map) =>
        map.ToDictionary(kv => kv.Key.ToString()!, kv => NormalizeValue(kv.Value), StringComparer.Ordinal);

    private static object? NormalizeValue(object? v) => v switch
    {
        Dictionary<object, object?> m => Normalize(m),
        List<object?> l => l.Select(NormalizeValue).ToList(),
        _ => v,
    };
}
