using System.Globalization;
using System.Text;

namespace FanVote.FraudModel.Trainer;

/// <summary>
/// The ROC curve as a small SVG (no plotting library needed). The x axis (false-positive rate) is logarithmic from
/// 10⁻⁴ to 1, because the operating point that matters is far left: a linear axis would squeeze it into one pixel.
/// </summary>
internal static class RocSvg
{
    private const double Left = 60, Top = 40, Size = 400, MinFpr = 1e-4;
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

    public static void Write(string path, string title, IReadOnlyList<(string Name, List<(double Fpr, double Tpr)> Points)> curves, double markFpr)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Left + Size + 180}" height="{Top + Size + 60}" font-family="sans-serif" font-size="12">""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="100%" height="100%" fill="white"/><text x="{Left}" y="22" font-size="14">{Escape(title)}</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{Top}" width="{Size}" height="{Size}" fill="none" stroke="#333"/>""").Append('\n');
        for (var e = -4; e <= 0; e++)
        {
            var x = X(Math.Pow(10, e));
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{x:F1}" y1="{Top}" x2="{x:F1}" y2="{Top + Size}" stroke="#ddd"/><text x="{x:F1}" y="{Top + Size + 16}" text-anchor="middle">{Math.Pow(10, e).ToString("G", CultureInfo.InvariantCulture)}</text>""").Append('\n');
        }

        for (var tpr = 0.0; tpr <= 1.0001; tpr += 0.2)
        {
            var y = Y(tpr);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{y:F1}" x2="{Left + Size}" y2="{y:F1}" stroke="#ddd"/><text x="{Left - 6}" y="{y + 4:F1}" text-anchor="end">{tpr:F1}</text>""").Append('\n');
        }

        var mark = X(markFpr);
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{mark:F1}" y1="{Top}" x2="{mark:F1}" y2="{Top + Size}" stroke="#888" stroke-dasharray="4 3"/><text x="{mark + 4:F1}" y="{Top + 14}" fill="#555">{markFpr:P1} FPR</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left + (Size / 2)}" y="{Top + Size + 36}" text-anchor="middle">false-positive rate on legitimate votes (log scale)</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text transform="translate(18 {Top + (Size / 2)}) rotate(-90)" text-anchor="middle">recall (true-positive rate)</text>""").Append('\n');
        for (var c = 0; c < curves.Count; c++)
        {
            var colour = Colours[c % Colours.Length];
            var points = string.Join(' ', Thin(curves[c].Points).Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Fpr):F1},{Y(p.Tpr):F1}")));
            svg.Append(CultureInfo.InvariantCulture, $"""<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>""").Append('\n');
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left + Size + 15}" y1="{Top + 10 + (c * 20)}" x2="{Left + Size + 35}" y2="{Top + 10 + (c * 20)}" stroke="{colour}" stroke-width="2"/><text x="{Left + Size + 40}" y="{Top + 14 + (c * 20)}">{Escape(curves[c].Name)}</text>""").Append('\n');
        }

        svg.Append("</svg>\n");
        File.WriteAllText(path, svg.ToString());
    }

    private static double X(double fpr) => Left + (Size * (Math.Log10(Math.Max(fpr, MinFpr)) - Math.Log10(MinFpr)) / -Math.Log10(MinFpr));

    private static double Y(double tpr) => Top + (Size * (1 - tpr));

    /// <summary>At most one point per half pixel, keeping the highest of each (keeps the file small, the curve the same).</summary>
    private static IEnumerable<(double Fpr, double Tpr)> Thin(List<(double Fpr, double Tpr)> points)
    {
        var groupX = double.NegativeInfinity;
        (double, double)? last = null;
        foreach (var p in points)
        {
            var x = X(p.Fpr);
            if (x - groupX >= 0.5 && last is { } done)
            {
                yield return done;
            }

            if (x - groupX >= 0.5)
            {
                groupX = x;
            }

            last = p;
        }

        if (last is { } final)
        {
            yield return final;
        }
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
