using System.Globalization;
using System.Text;

namespace FanVote.Fraud.Core;

/// <summary>A vote and its label: true fraud, false legitimate, null unknown (an exported ledger).</summary>
public readonly record struct LabelledVote(VoteInput Vote, bool? IsFraud);

/// <summary>
/// The vote CSV that `generate` and `export` write and `train` and `evaluate` read:
/// <c>vote_id,window_id,candidate_id,account_id,device_id,ip,accepted_at,account_created_at,is_fraud</c>, a header row,
/// UTC ISO-8601 times, <c>is_fraud</c> 1, 0 or empty (unknown). Fields are quoted as RFC 4180 says when they hold a comma,
/// a quote or a line break.
/// </summary>
public static class VoteCsv
{
    public const string Header = "vote_id,window_id,candidate_id,account_id,device_id,ip,accepted_at,account_created_at,is_fraud";
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
    private const int Columns = 9;

    public static void WriteHeader(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Header);
        writer.Write('\n');
    }

    public static void Write(TextWriter writer, in LabelledVote row)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var v = row.Vote;
        writer.Write(v.VoteId.ToString("D"));
        writer.Write(',');
        Field(writer, v.WindowId);
        writer.Write(',');
        Field(writer, v.CandidateId);
        writer.Write(',');
        Field(writer, v.AccountId);
        writer.Write(',');
        Field(writer, v.DeviceId);
        writer.Write(',');
        Field(writer, v.Ip);
        writer.Write(',');
        writer.Write(FormatTime(v.AcceptedAtMs));
        writer.Write(',');
        writer.Write(FormatTime(v.AccountCreatedAtMs));
        writer.Write(',');
        writer.Write(row.IsFraud switch { true => "1", false => "0", null => "" });
        writer.Write('\n');
    }

    public static string FormatTime(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>Reads every row; a malformed row throws <see cref="FormatException"/> naming its line and what is wrong.</summary>
    public static IEnumerable<LabelledVote> Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var fields = new List<string>(Columns);
        var line = 0;
        var header = ReadRecord(reader, fields, ref line);
        if (!header || string.Join(',', fields) != Header)
        {
            throw new FormatException($"line 1: the header must be exactly '{Header}'");
        }

        while (ReadRecord(reader, fields, ref line))
        {
            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue; // blank line
            }

            yield return Parse(fields, line);
        }
    }

    private static LabelledVote Parse(List<string> f, int line)
    {
        if (f.Count != Columns)
        {
            throw new FormatException($"line {line}: expected {Columns} fields, found {f.Count}");
        }

        if (!Guid.TryParse(f[0], out var voteId))
        {
            throw new FormatException($"line {line}: vote_id '{f[0]}' is not a UUID");
        }

        for (var i = 1; i <= 4; i++)
        {
            if (f[i].Length == 0)
            {
                throw new FormatException($"line {line}: {Header.Split(',')[i]} is empty");
            }
        }

        bool? label = f[8] switch
        {
            "1" or "true" => true,
            "0" or "false" => false,
            "" => null,
            _ => throw new FormatException($"line {line}: is_fraud must be 1, 0 or empty, not '{f[8]}'"),
        };
        return new LabelledVote(new VoteInput(voteId, f[1], f[2], f[3], f[4], f[5], ParseTime(f[6], "accepted_at", line), ParseTime(f[7], "account_created_at", line)), label);
    }

    private static long ParseTime(string s, string name, int line) =>
        DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t.ToUnixTimeMilliseconds()
            : throw new FormatException($"line {line}: {name} '{s}' is not an ISO-8601 time (e.g. 2026-11-22T20:00:00.000Z)");

    private static void Field(TextWriter w, string value)
    {
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            w.Write(value);
            return;
        }

        w.Write('"');
        w.Write(value.Replace("\"", "\"\"", StringComparison.Ordinal));
        w.Write('"');
    }

    /// <summary>One RFC 4180 record (quoted fields may span lines); false at the end of the input.</summary>
    private static bool ReadRecord(TextReader r, List<string> fields, ref int line)
    {
        fields.Clear();
        var c = r.Read();
        if (c < 0)
        {
            return false;
        }

        line++;
        var sb = new StringBuilder();
        var quoted = false;
        while (true)
        {
            if (quoted)
            {
                if (c < 0)
                {
                    throw new FormatException($"line {line}: a quoted field is not closed");
                }

                if (c == '"')
                {
                    if (r.Peek() == '"')
                    {
                        sb.Append('"');
                        r.Read();
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    sb.Append((char)c);
                }
            }
            else if (c == '"' && sb.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(sb.ToString());
                sb.Clear();
            }
            else if (c is '\n' or -1)
            {
                break;
            }
            else if (c != '\r')
            {
                sb.Append((char)c);
            }

            c = r.Read();
        }

        fields.Add(sb.ToString());
        return true;
    }
}
