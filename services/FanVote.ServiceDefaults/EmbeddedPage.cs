using System.Reflection;

namespace FanVote.ServiceDefaults;

/// <summary>A page shipped inside an app's assembly (an EmbeddedResource), read once, on first use.</summary>
public static class EmbeddedPage
{
    public static Lazy<byte[]> Of(Assembly assembly, string resource)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return new(() =>
        {
            using var s = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"{assembly.GetName().Name} has no embedded resource {resource}");
            using var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        });
    }
}
