using System.Text.Json;

namespace FanVote.Sidecar.Components;

/// <summary>
/// Resolves <c>secretKeyRef</c> items at load time through the component named by <c>auth.secretStore</c>, with the
/// lookup rules of daprd: the store returns a map for the secret name, and the value is the entry under
/// <c>key</c> (or under the name itself when <c>key</c> is empty). Two store types exist here:
/// <c>secretstores.local.env</c> (the secret name is an environment variable) and <c>secretstores.local.file</c>
/// (a JSON file; with <c>multiValued: "true"</c> a top-level object is one secret with several keys, which is
/// what a Kubernetes Secret's name and key mean, so the same component YAML works with
/// <c>secretstores.kubernetes</c> on a cluster).
/// </summary>
internal sealed class SecretResolver(IEnumerable<ComponentSpec> stores, Func<string, string?> env)
{
    private const string EnvStore = "secretstores.local.env";
    private const string FileStore = "secretstores.local.file";

    private readonly Dictionary<string, ComponentSpec> _stores = stores.ToDictionary(c => c.Name, StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, Dictionary<string, string>>> _files = new(StringComparer.Ordinal);

    public string Resolve(string component, string item, string secretName, string? secretKey, string? storeName, string file)
    {
        if (storeName is null)
        {
            throw new ResourceException(
                $"{file}: component '{component}' uses secretKeyRef for '{item}' but names no auth.secretStore; " +
                $"add a {EnvStore} or {FileStore} component and set auth.secretStore to its name");
        }

        if (!_stores.TryGetValue(storeName, out var store))
        {
            throw new ResourceException($"{file}: component '{component}' names secret store '{storeName}', which is not defined");
        }

        var data = store.Type switch
        {
            EnvStore => new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [secretName] = env(secretName) ?? throw new ResourceException(
                    $"{file}: secret '{secretName}' for '{component}.{item}' is not set ({EnvStore} reads the environment variable of that name)"),
            },
            FileStore => FileSecret(store, secretName, component, item, file),
            _ => throw new ResourceException(
                $"{file}: secret store type '{store.Type}' is not implemented by the local sidecar (only {EnvStore} and {FileStore}); use daprd"),
        };

        var key = string.IsNullOrEmpty(secretKey) ? secretName : secretKey;
        return data.TryGetValue(key, out var value)
            ? value
            : throw new ResourceException(
                $"{file}: secret '{secretName}' in store '{storeName}' has no key '{key}' (it has: {string.Join(", ", data.Keys.Order(StringComparer.Ordinal))}), " +
                $"needed for '{component}.{item}'");
    }

    private Dictionary<string, string> FileSecret(ComponentSpec store, string secretName, string component, string item, string file)
    {
        if (!_files.TryGetValue(store.Name, out var secrets))
        {
            _files[store.Name] = secrets = ReadFile(store);
        }

        return secrets.TryGetValue(secretName, out var data)
            ? data
            : throw new ResourceException(
                $"{file}: secret '{secretName}' for '{component}.{item}' is not in {store.Get("secretsFile")} (secret store '{store.Name}')");
    }

    /// <summary>Secret name → its key/value map, the way contrib's local file store builds it.</summary>
    private static Dictionary<string, Dictionary<string, string>> ReadFile(ComponentSpec store)
    {
        var path = store.Get("secretsFile") is { Length: > 0 } p
            ? Path.GetFullPath(p) // relative to the working directory, as daprd resolves it
            : throw new ResourceException($"{store.SourceFile}: secret store '{store.Name}' has no secretsFile (with envRef, is the variable set?)");
        var separator = store.GetOr("nestedSeparator", ":");
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            root = doc.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new ResourceException($"{store.SourceFile}: secret store '{store.Name}' cannot read {path}: {e.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ResourceException($"{path} (secret store '{store.Name}') must hold a JSON object");
        }

        var result = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        if (store.GetBool("multiValued"))
        {
            foreach (var top in root.EnumerateObject())
            {
                var data = new Dictionary<string, string>(StringComparer.Ordinal);
                if (top.Value.ValueKind == JsonValueKind.Object)
                {
                    Flatten(top.Value, "", separator, data, path);
                }
                else
                {
                    data[top.Name] = Text(top.Value, top.Name, path);
                }

                result[top.Name] = data;
            }
        }
        else
        {
            var flat = new Dictionary<string, string>(StringComparer.Ordinal);
            Flatten(root, "", separator, flat, path);
            foreach (var (k, v) in flat)
            {
                result[k] = new Dictionary<string, string>(StringComparer.Ordinal) { [k] = v };
            }
        }

        return result;
    }

    private static void Flatten(JsonElement e, string prefix, string separator, Dictionary<string, string> into, string path)
    {
        foreach (var p in e.EnumerateObject())
        {
            var key = prefix.Length == 0 ? p.Name : prefix + separator + p.Name;
            if (p.Value.ValueKind == JsonValueKind.Object)
            {
                Flatten(p.Value, key, separator, into, path);
            }
            else
            {
                into[key] = Text(p.Value, key, path);
            }
        }
    }

    // daprd formats non-string values with Go's %s, which mangles them; refusing them is clearer.
    private static string Text(JsonElement v, string key, string path) =>
        v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new ResourceException($"{path}: secret '{key}' is a JSON {v.ValueKind.ToString().ToLowerInvariant()}; write secrets as strings");
}
