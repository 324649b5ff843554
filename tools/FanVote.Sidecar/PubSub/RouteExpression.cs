using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FanVote.Sidecar.PubSub;

/// <summary>
/// The subset of CEL the local sidecar evaluates in routing rules (docs/dapr-subset.md §4.1):
/// <c>==</c>, <c>!=</c>, <c>&amp;&amp;</c>, <c>||</c>, parentheses, string literals ('…' or "…"), numbers,
/// <c>true</c>/<c>false</c>, and paths <c>event.&lt;field&gt;[.&lt;field&gt;…]</c> into the CloudEvent.
/// Anything else (functions, <c>in</c>, <c>&lt;</c>, macros, …) is rejected when the subscription is loaded so
/// start-up fails instead of a rule silently never matching. A missing field compares as null (never equal
/// to a literal); a type mismatch compares as not equal.
/// </summary>
public sealed class RouteExpression
{
    private readonly Node _root;

    private RouteExpression(string text, Node root)
    {
        Text = text;
        _root = root;
    }

    public string Text { get; }

    /// <summary>Parses <paramref name="text"/>; an empty text always matches.</summary>
    public static RouteExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            return new RouteExpression(text, new Literal(true));
        }

        var p = new Parser(text);
        var node = p.ParseOr();
        p.ExpectEnd();
        return new RouteExpression(text, node);
    }

    public bool Matches(JsonElement cloudEvent) => _root.Eval(cloudEvent) is true;

    /// <summary>True for the empty rule: it matches every event without looking at it.</summary>
    public bool AlwaysMatches => _root is Literal { Value: true };

    private abstract record Node
    {
        public abstract object? Eval(JsonElement ev);
    }

    private sealed record Literal(object? Value) : Node
    {
        public override object? Eval(JsonElement ev) => Value;
    }

    private sealed record PathNode(IReadOnlyList<string> Fields) : Node
    {
        public override object? Eval(JsonElement ev)
        {
            var cur = ev;
            foreach (var f in Fields)
            {
                if (cur.ValueKind != JsonValueKind.Object || !cur.TryGetProperty(f, out cur))
                {
                    return null;
                }
            }

            return cur.ValueKind switch
            {
                JsonValueKind.String => cur.GetString(),
                JsonValueKind.Number => cur.GetDouble(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => null,
            };
        }
    }

    private sealed record Compare(Node Left, Node Right, bool Equal) : Node
    {
        public override object? Eval(JsonElement ev)
        {
            var l = Left.Eval(ev);
            var r = Right.Eval(ev);
            var eq = l is not null && r is not null && l.GetType() == r.GetType() && l.Equals(r);
            return Equal ? eq : !eq;
        }
    }

    private sealed record Logical(Node Left, Node Right, bool And) : Node
    {
        public override object? Eval(JsonElement ev) =>
            And ? Left.Eval(ev) is true && Right.Eval(ev) is true : Left.Eval(ev) is true || Right.Eval(ev) is true;
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public Node ParseOr()
        {
            var left = ParseAnd();
            while (Accept("||"))
            {
                left = new Logical(left, ParseAnd(), And: false);
            }

            return left;
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_pos < text.Length)
            {
                throw Error($"unexpected '{text[_pos..]}'");
            }
        }

        private Node ParseAnd()
        {
            var left = ParseComparison();
            while (Accept("&&"))
            {
                left = new Logical(left, ParseComparison(), And: true);
            }

            return left;
        }

        private Node ParseComparison()
        {
            var left = ParsePrimary();
            if (Accept("=="))
            {
                return new Compare(left, ParsePrimary(), Equal: true);
            }

            if (Accept("!="))
            {
                return new Compare(left, ParsePrimary(), Equal: false);
            }

            return left;
        }

        private Node ParsePrimary()
        {
            SkipSpace();
            if (_pos >= text.Length)
            {
                throw Error("unexpected end of expression");
            }

            var c = text[_pos];
            if (c == '(')
            {
                _pos++;
                var inner = ParseOr();
                if (!Accept(")"))
                {
                    throw Error("missing ')'");
                }

                return inner;
            }

            if (c is '"' or '\'')
            {
                return new Literal(ReadString(c));
            }

            if (char.IsDigit(c) || (c == '-' && _pos + 1 < text.Length && char.IsDigit(text[_pos + 1])))
            {
                var start = _pos++;
                while (_pos < text.Length && (char.IsDigit(text[_pos]) || text[_pos] is '.' or 'e' or 'E'))
                {
                    _pos++;
                }

                return double.TryParse(text[start.._pos], NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                    ? new Literal(d)
                    : throw Error($"'{text[start.._pos]}' is not a number");
            }

            var ident = ReadIdent();
            switch (ident)
            {
                case "true":
                    return new Literal(true);
                case "false":
                    return new Literal(false);
                case "event":
                    var fields = new List<string>();
                    while (_pos < text.Length && text[_pos] == '.')
                    {
                        _pos++;
                        var f = ReadIdent();
                        if (f.Length == 0)
                        {
                            throw Error("expected a field name after '.'");
                        }

                        fields.Add(f);
                    }

                    SkipSpace();
                    if (_pos < text.Length && text[_pos] is '(' or '[')
                    {
                        throw Error("function calls and indexing are not supported");
                    }

                    return fields.Count > 0 ? new PathNode(fields) : throw Error("'event' must be followed by a field, e.g. event.type");
                case "":
                    throw Error($"unexpected '{text[_pos..]}'");
                default:
                    throw Error($"'{ident}' is not supported (only event.<field>, literals, ==, !=, &&, ||)");
            }
        }

        private string ReadString(char quote)
        {
            _pos++;
            var sb = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length)
                {
                    _pos++;
                    sb.Append(text[_pos] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var x => x });
                }
                else
                {
                    sb.Append(text[_pos]);
                }

                _pos++;
            }

            if (_pos >= text.Length)
            {
                throw Error("unterminated string literal");
            }

            _pos++;
            return sb.ToString();
        }

        private string ReadIdent()
        {
            SkipSpace();
            var start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_'))
            {
                _pos++;
            }

            return text[start.._pos];
        }

        private bool Accept(string token)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, _pos, token, 0, token.Length) == 0)
            {
                _pos += token.Length;
                return true;
            }

            return false;
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }

        private FormatException Error(string what) =>
            new($"routing rule '{text}' is outside the CEL subset the local sidecar supports: {what} at position {_pos}");
    }
}
