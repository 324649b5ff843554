using System.Reflection;
using FanVote.Contracts;

namespace FanVote.Components.Tests.Checks;

/// <summary>The names FanVote.Contracts defines (app ids, component names, topics), read by reflection.</summary>
public static class Known
{
    private static readonly Dictionary<string, Type> NameClasses = typeof(AppIds).Assembly.GetTypes()
        .Where(t => t is { IsAbstract: true, IsSealed: true, IsPublic: true })
        .ToDictionary(t => t.Name, StringComparer.Ordinal);

    public static IReadOnlySet<string> AppIdSet { get; } = AppIds.All.ToHashSet(StringComparer.Ordinal);

    /// <summary>Every component name an app may use: each region must define exactly these.</summary>
    public static IReadOnlySet<string> ComponentNameSet { get; } = Constants(typeof(ComponentNames)).ToHashSet(StringComparer.Ordinal);

    /// <summary>The value of a constant written as <c>Class.Member</c> in source, e.g. Topics.Votes → "votes".</summary>
    public static string? Constant(string className, string member) =>
        NameClasses.TryGetValue(className, out var t) && t.GetField(member, BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } f
            ? f.GetRawConstantValue() as string
            : null;

    private static IEnumerable<string> Constants(Type t) =>
        t.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);
}
