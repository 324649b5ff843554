using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace FanVote.Components.Tests.Checks;

/// <summary>A subscription a service declares in code: WithTopic(...), new TopicOptions { ... } or [Topic(...)].</summary>
public sealed record CodeSubscription(string? PubsubName, string? Topic, string? DeadLetterTopic, string File, int Line, string Source);

/// <summary>A host project: the app id it passes to AddFanVoteDefaults and the GET paths it maps.</summary>
public sealed record ServiceProject(string AppId, string Dir, IReadOnlySet<string> MappedPaths, string File, bool UsesForwardedHeaders = false);

/// <summary>
/// Reads the services' C# as syntax trees (nothing is compiled or run). Names written as constants of
/// FanVote.Contracts (Topics.Votes, AppIds.Tally, ...) are resolved through <see cref="Known"/>.
/// </summary>
public sealed class SourceScan
{
    private readonly List<(SyntaxTree Tree, string File)> _trees;

    public SourceScan(IEnumerable<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        _trees = [.. files.Select(f => (CSharpSyntaxTree.ParseText(File.ReadAllText(f), path: f), f))];
    }

    /// <summary>Declarations that look like a subscription but whose topic could not be read (a finding on their own).</summary>
    public List<CodeSubscription> Unreadable { get; } = [];

    public IReadOnlyList<CodeSubscription> Subscriptions()
    {
        Unreadable.Clear();
        var found = new List<CodeSubscription>();
        foreach (var (tree, file) in _trees)
        {
            var root = tree.GetRoot();
            foreach (var call in root.DescendantNodes().OfType<InvocationExpressionSyntax>().Where(c => MethodName(c) == "WithTopic"))
            {
                foreach (var s in FromWithTopic(call, file))
                {
                    Add(found, s);
                }
            }

            foreach (var attr in root.DescendantNodes().OfType<AttributeSyntax>().Where(a => LastName(a.Name) is "Topic" or "TopicAttribute"))
            {
                Add(found, FromTopicArguments(attr.ArgumentList?.Arguments.Select(a => (a.NameEquals?.Name.Identifier.Text ?? a.NameColon?.Name.Identifier.Text, a.Expression)).ToList() ?? [], attr, file));
            }

            foreach (var created in root.DescendantNodes().OfType<ObjectCreationExpressionSyntax>().Where(o => LastName(o.Type) == "TopicAttribute"))
            {
                Add(found, FromTopicArguments(created.ArgumentList?.Arguments.Select(a => (a.NameColon?.Name.Identifier.Text, a.Expression)).ToList() ?? [], created, file));
            }
        }

        return found;
    }

    /// <summary>Every project under the scanned trees that calls AddFanVoteDefaults(appId), with the paths it maps.</summary>
    public IReadOnlyList<ServiceProject> Services()
    {
        var defaultsPaths = DefaultEndpointPaths();
        var services = new List<ServiceProject>();
        foreach (var (tree, file) in _trees)
        {
            var add = tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
                .FirstOrDefault(c => MethodName(c) == "AddFanVoteDefaults" && c.Expression is MemberAccessExpressionSyntax);
            if (add is null || add.ArgumentList.Arguments.Count != 1)
            {
                continue;
            }

            var dir = ProjectDir(file);
            var projectTrees = _trees.Where(t => ProjectDir(t.File) == dir).ToList();
            var paths = projectTrees.SelectMany(t => MappedPaths(t.Tree)).ToHashSet(StringComparer.Ordinal);
            if (projectTrees.Any(t => t.Tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>().Any(c => MethodName(c) == "MapFanVoteDefaultEndpoints")))
            {
                paths.UnionWith(defaultsPaths);
            }

            // A service that calls UseForwardedHeaders counts clients by the address X-Forwarded-For names (from trusted proxies only).
            var forwarded = projectTrees.Any(t => t.Tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>().Any(c => MethodName(c) == "UseForwardedHeaders"));
            services.Add(new ServiceProject(Resolve(add.ArgumentList.Arguments[0].Expression) ?? "(unreadable)", dir, paths, file, forwarded));
        }

        return services;
    }

    /// <summary>The paths the ServiceDefaults project maps for every service that calls MapFanVoteDefaultEndpoints.</summary>
    public IReadOnlySet<string> DefaultEndpointPaths() =>
        _trees.Where(t => t.Tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().Any(m => m.Identifier.Text == "MapFanVoteDefaultEndpoints"))
            .SelectMany(t => MappedPaths(t.Tree)).ToHashSet(StringComparer.Ordinal);

    private void Add(List<CodeSubscription> found, CodeSubscription? s)
    {
        if (s is null)
        {
            return;
        }

        if (s.Topic is null)
        {
            Unreadable.Add(s);
        }
        else
        {
            found.Add(s);
        }
    }

    /// <summary>
    /// One subscription per WithTopic call, or, when the call sits in a helper that takes the topic (or the pub/sub
    /// name, or the dead-letter topic) as a parameter, one per call site of that helper, read there.
    /// </summary>
    private IEnumerable<CodeSubscription?> FromWithTopic(InvocationExpressionSyntax call, string file)
    {
        var args = call.ArgumentList.Arguments;
        ExpressionSyntax?[] exprs;
        if (args.Count == 1 && args[0].NameColon is null)
        {
            // WithTopic(TopicOptions): an object initializer inline, or a local variable holding one.
            var init = args[0].Expression switch
            {
                ObjectCreationExpressionSyntax o => o.Initializer,
                ImplicitObjectCreationExpressionSyntax o => o.Initializer,
                IdentifierNameSyntax id => LocalInitializer(call, id.Identifier.Text),
                _ => null,
            };
            if (init is null)
            {
                yield return Located(null, null, null, call, file);
                yield break;
            }

            var values = Assignments(init);
            if (args[0].Expression is IdentifierNameSyntax variable)
            {
                foreach (var (k, v) in LaterAssignments(call, variable.Identifier.Text))
                {
                    values[k] = v;
                }
            }

            exprs = [values.GetValueOrDefault("PubsubName"), values.GetValueOrDefault("Name"), values.GetValueOrDefault("DeadLetterTopic")];
        }
        else
        {
            // WithTopic(pubsubName, name, ...): none of these overloads takes a dead-letter topic.
            var named = args.Where(a => a.NameColon is not null).ToDictionary(a => a.NameColon!.Name.Identifier.Text, a => a.Expression, StringComparer.Ordinal);
            var positional = args.Where(a => a.NameColon is null).Select(a => a.Expression).ToList();
            exprs = [named.GetValueOrDefault("pubsubName") ?? positional.ElementAtOrDefault(0), named.GetValueOrDefault("name") ?? positional.ElementAtOrDefault(1), named.GetValueOrDefault("deadLetterTopic")];
        }

        foreach (var (bound, site, siteFile) in ThroughCallers(exprs, call, file, depth: 0))
        {
            yield return Located(Resolve(bound[0]), Resolve(bound[1]), Resolve(bound[2]), site, siteFile);
        }
    }

    /// <summary>
    /// Where some of <paramref name="exprs"/> are parameters of the method they sit in, the same expressions as
    /// each caller of that method passes them (followed up through callers' own parameters, a few levels);
    /// otherwise the expressions unchanged, at <paramref name="site"/>. A helper nobody calls subscribes to nothing.
    /// </summary>
    private IEnumerable<(ExpressionSyntax?[] Exprs, SyntaxNode Site, string File)> ThroughCallers(ExpressionSyntax?[] exprs, SyntaxNode site, string file, int depth)
    {
        var method = site.Ancestors().OfType<MethodDeclarationSyntax>().FirstOrDefault();
        var parameters = method?.ParameterList.Parameters.Select(p => p.Identifier.Text).ToList() ?? [];
        bool IsParameter(ExpressionSyntax? e) => e is IdentifierNameSyntax id && parameters.Contains(id.Identifier.Text);
        if (method is null || depth > 4 || !exprs.Any(IsParameter))
        {
            yield return (exprs, site, file);
            yield break;
        }

        var extension = method.ParameterList.Parameters.FirstOrDefault()?.Modifiers.Any(m => m.IsKind(SyntaxKind.ThisKeyword)) == true;
        foreach (var (tree, callerFile) in _trees)
        {
            foreach (var call in tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>().Where(c => MethodName(c) == method.Identifier.Text))
            {
                var callArgs = call.ArgumentList.Arguments;
                var positional = callArgs.Where(a => a.NameColon is null).Select(a => a.Expression).ToList();

                // An extension method called as x.M(a, b) passes its `this` parameter outside the argument list.
                var offset = extension && call.Expression is MemberAccessExpressionSyntax ? 1 : 0;
                ExpressionSyntax? Argument(string name) =>
                    callArgs.FirstOrDefault(a => a.NameColon?.Name.Identifier.Text == name)?.Expression
                    ?? positional.ElementAtOrDefault(parameters.IndexOf(name) - offset);
                var bound = exprs.Select(e => IsParameter(e) ? Argument(((IdentifierNameSyntax)e!).Identifier.Text) : e).ToArray();
                foreach (var result in ThroughCallers(bound, call, callerFile, depth + 1))
                {
                    yield return result;
                }
            }
        }
    }

    /// <summary>[Topic(...)] and new TopicAttribute(...): (pubsubName, name, deadLetterTopic, bool enableRawPayload) is the one constructor with a dead letter.</summary>
    private static CodeSubscription? FromTopicArguments(List<(string? Name, ExpressionSyntax Value)> args, SyntaxNode node, string file)
    {
        var positional = args.Where(a => a.Name is null).Select(a => a.Value).ToList();
        string? Named(params string[] names) =>
            args.Where(a => a.Name is not null && names.Contains(a.Name, StringComparer.Ordinal)).Select(a => Resolve(a.Value)).FirstOrDefault();
        var dead = Named("DeadLetterTopic", "deadLetterTopic");
        if (dead is null && positional.Count >= 4 && positional[3] is LiteralExpressionSyntax { RawKind: (int)SyntaxKind.TrueLiteralExpression or (int)SyntaxKind.FalseLiteralExpression })
        {
            dead = Resolve(positional[2]);
        }

        return Located(Named("pubsubName", "PubsubName") ?? Resolve(positional.ElementAtOrDefault(0)), Named("name", "Name") ?? Resolve(positional.ElementAtOrDefault(1)), dead, node, file);
    }

    /// <summary>Located at the call's own name (a fluent chain starts lines earlier), shown from there on.</summary>
    private static CodeSubscription Located(string? pubsub, string? topic, string? dead, SyntaxNode node, string file)
    {
        var at = node is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax m } ? m.Name : node;
        var text = node.SyntaxTree.GetText().ToString(TextSpan.FromBounds(at.SpanStart, node.Span.End));
        return new(pubsub, topic, dead, file, at.GetLocation().GetLineSpan().StartLinePosition.Line + 1, text.Split('\n')[0].Trim());
    }

    private static Dictionary<string, ExpressionSyntax> Assignments(InitializerExpressionSyntax? init) =>
        init?.Expressions.OfType<AssignmentExpressionSyntax>()
            .Where(a => a.Left is IdentifierNameSyntax)
            .ToDictionary(a => ((IdentifierNameSyntax)a.Left).Identifier.Text, a => a.Right, StringComparer.Ordinal) ?? [];

    private static InitializerExpressionSyntax? LocalInitializer(SyntaxNode from, string name) =>
        Body(from)?.DescendantNodes().OfType<VariableDeclaratorSyntax>().Where(v => v.Identifier.Text == name)
            .Select(v => v.Initializer?.Value switch
            {
                ObjectCreationExpressionSyntax o => o.Initializer,
                ImplicitObjectCreationExpressionSyntax o => o.Initializer,
                _ => null,
            })
            .FirstOrDefault(i => i is not null);

    /// <summary><c>name.Property = value;</c> statements in the same method (e.g. options.DeadLetterTopic = ...).</summary>
    private static IEnumerable<(string Property, ExpressionSyntax Value)> LaterAssignments(SyntaxNode from, string name) =>
        Body(from)?.DescendantNodes().OfType<AssignmentExpressionSyntax>()
            .Where(a => a.Left is MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax target } && target.Identifier.Text == name)
            .Select(a => (((MemberAccessExpressionSyntax)a.Left).Name.Identifier.Text, a.Right)) ?? [];

    private static SyntaxNode? Body(SyntaxNode from) =>
        from.Ancestors().FirstOrDefault(a => a is BaseMethodDeclarationSyntax or LocalFunctionStatementSyntax or CompilationUnitSyntax);

    /// <summary>A string literal, or a constant of FanVote.Contracts written as Class.Member; otherwise null.</summary>
    private static string? Resolve(ExpressionSyntax? e) => e switch
    {
        LiteralExpressionSyntax { RawKind: (int)SyntaxKind.StringLiteralExpression } s => s.Token.ValueText,
        MemberAccessExpressionSyntax m => Known.Constant(LastName(m.Expression) ?? "", m.Name.Identifier.Text),
        _ => null,
    };

    private static IEnumerable<string> MappedPaths(SyntaxTree tree) =>
        tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(c => MethodName(c) is "MapGet" or "MapHealthChecks" or "MapPrometheusScrapingEndpoint" or "MapMethods")
            .Select(c => c.ArgumentList.Arguments.FirstOrDefault()?.Expression)
            .OfType<LiteralExpressionSyntax>()
            .Where(l => l.IsKind(SyntaxKind.StringLiteralExpression))
            .Select(l => l.Token.ValueText);

    private static string? MethodName(InvocationExpressionSyntax c) => c.Expression switch
    {
        MemberAccessExpressionSyntax m => m.Name.Identifier.Text,
        IdentifierNameSyntax i => i.Identifier.Text,
        GenericNameSyntax g => g.Identifier.Text,
        _ => null,
    };

    private static string? LastName(ExpressionSyntax e) => e switch
    {
        IdentifierNameSyntax i => i.Identifier.Text,
        QualifiedNameSyntax q => q.Right.Identifier.Text,
        MemberAccessExpressionSyntax m => m.Name.Identifier.Text,
        GenericNameSyntax g => g.Identifier.Text,
        _ => null,
    };

    /// <summary>The folder of the nearest .csproj above <paramref name="file"/>.</summary>
    private static string ProjectDir(string file)
    {
        for (var dir = Path.GetDirectoryName(file); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (Directory.EnumerateFiles(dir, "*.csproj").Any())
            {
                return dir;
            }
        }

        return Path.GetDirectoryName(file)!;
    }
}
