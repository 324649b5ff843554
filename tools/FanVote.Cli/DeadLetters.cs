using System.Globalization;
using System.Text.Json;
using FanVote.Contracts;
using StackExchange.Redis;

namespace FanVote.Cli;

/// <summary>One entry of a dead-letter stream.</summary>
/// <param name="EntryId">The stream entry id (its first part is when it was dead-lettered, in Unix ms).</param>
/// <param name="Id">What the message is about: "vote ID", "window ID", "event ID" (the first of voteId, windowId, eventId its data has).</param>
/// <param name="WindowId">The data's windowId, when it has one.</param>
/// <param name="Type">The CloudEvent type, when the entry is a CloudEvent.</param>
/// <param name="Bytes">Size of the stored message.</param>
public sealed record DeadLetter(string EntryId, string Id, string? WindowId, string? Type, int Bytes)
{
    public DateTimeOffset DeadLetteredAt =>
        long.TryParse(EntryId.Split('-')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : default;
}

/// <summary>
/// The dead-letter streams of the local pub/sub (`pubsub.redis`: one stream per topic, named as the topic; each entry
/// holds the message's stored bytes in field <c>data</c>, plus <c>metadata</c> when it had any, exactly as the sidecar
/// read them from the original topic). Replaying copies an entry's fields, byte for byte, to the topic it came from and
/// deletes it from the dead-letter stream in one atomic step: the message is never re-serialized (the ingress seal on a
/// vote stays valid) and never replayed twice. A replayed vote that is already in the ledger is harmless: the tally's
/// ledger is keyed by vote id (INSERT ... ON CONFLICT DO NOTHING) and counts only the rows it inserted.
/// </summary>
public static class DeadLetters
{
    /// <summary>The dead-letter topic `dlq` lists and replays by default: the votes that never reached the tally's ledger.</summary>
    public const string DefaultTopic = Topics.VotesDeadLetter;

    // KEYS[1] the dead-letter stream, KEYS[2] the topic to replay to, ARGV[1] the entry id. Returns the new entry id,
    // or false when the entry is no longer there (replayed already, or removed).
    private const string ReplayScript = """
        local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
        if #e == 0 then return false end
        local id = redis.call('XADD', KEYS[2], '*', unpack(e[1][2]))
        redis.call('XDEL', KEYS[1], ARGV[1])
        return id
        """;

    /// <summary>The topic a dead-letter topic's messages came from: its name without the "-dlq" suffix (votes-dlq → votes).</summary>
    public static string SourceTopic(string deadLetterTopic)
    {
        ArgumentNullException.ThrowIfNull(deadLetterTopic);
        if (deadLetterTopic == Topics.VotesFraudDeadLetter)
        {
            // The fraud service's dead letters came from `votes` too (replaying them redelivers to every group of it).
            return Topics.Votes;
        }

        return deadLetterTopic.EndsWith("-dlq", StringComparison.Ordinal) && deadLetterTopic.Length > 4
            ? deadLetterTopic[..^4]
            : throw new ArgumentException($"cannot tell where '{deadLetterTopic}' came from; give --to TOPIC", nameof(deadLetterTopic));
    }

    /// <summary>Up to <paramref name="limit"/> entries of <paramref name="deadLetterTopic"/>, oldest first.</summary>
    public static async Task<IReadOnlyList<DeadLetter>> ListAsync(IDatabase db, string deadLetterTopic, int limit = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(db);
        var list = new List<DeadLetter>();
        RedisValue from = "-";
        while (list.Count < limit)
        {
            var page = await db.StreamRangeAsync(deadLetterTopic, from, "+", Math.Min(1000, limit - list.Count));
            foreach (var e in page)
            {
                list.Add(Describe(e));
            }

            if (page.Length == 0 || list.Count >= limit)
            {
                break;
            }

            from = "(" + page[^1].Id;
        }

        return list;
    }

    public static Task<long> CountAsync(IDatabase db, string deadLetterTopic)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.StreamLengthAsync(deadLetterTopic);
    }

    /// <summary>
    /// Replays the entries <paramref name="entryIds"/> (all of them when null) of <paramref name="deadLetterTopic"/> to
    /// <paramref name="target"/>; returns how many were replayed (entries already gone are skipped: running it again is harmless).
    /// </summary>
    public static async Task<int> ReplayAsync(IDatabase db, string deadLetterTopic, string target, IReadOnlyCollection<string>? entryIds = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        var ids = entryIds ?? [.. (await ListAsync(db, deadLetterTopic)).Select(d => d.EntryId)];
        var replayed = 0;
        foreach (var id in ids)
        {
            var added = await db.ScriptEvaluateAsync(ReplayScript, [deadLetterTopic, target], [id]);
            if (!added.IsNull)
            {
                replayed++;
            }
        }

        return replayed;
    }

    private static DeadLetter Describe(StreamEntry e)
    {
        var data = e["data"];
        var bytes = data.IsNull ? [] : (byte[])data!;
        string id = "(unreadable)";
        string? window = null;
        string? type = null;
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("specversion", out _))
            {
                type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (root.TryGetProperty("data", out var inner))
                {
                    root = inner;
                }
            }

            if (root.ValueKind == JsonValueKind.Object)
            {
                window = root.TryGetProperty("windowId", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : null;
                id = root.TryGetProperty("voteId", out var v) ? "vote " + v
                    : window is not null ? "window " + window
                    : root.TryGetProperty("eventId", out var ev) ? "event " + ev
                    : "(no id)";
            }
            else
            {
                id = "(no id)";
            }
        }
        catch (JsonException)
        {
        }

        return new DeadLetter(e.Id!, id, window, type, bytes.Length);
    }
}

/// <summary>`fanvote dlq list|replay`: what an operator does with dead letters.</summary>
public static class DeadLetterCommands
{
    public const string Usage = """
          fanvote dlq list [--topic votes-dlq] [--window ID] [--limit N] [--redis HOST:PORT]
              Lists a dead-letter stream, oldest first: entry id, when, what (vote/window/event id), type, size.
          fanvote dlq replay [--topic votes-dlq] [--to votes] [--window ID] [--entry ID ...] [--redis HOST:PORT]
              Re-publishes dead letters to the topic they came from with their original bytes (seals stay valid) and
              removes them from the dead-letter stream, each in one atomic step; replaying again is harmless, and a
              vote already in the ledger still counts once. Redis: --redis, else FANVOTE_REDIS_HOST, else the `up`
              Redis; its password from FANVOTE_REDIS_PASSWORD_FILE, FANVOTE_REDIS_PASSWORD or REDISCLI_AUTH.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Length == 0 || args[0] is not ("list" or "replay"))
        {
            error.WriteLine("usage:\n" + Usage);
            return 2;
        }

        Dictionary<string, List<string>> o;
        try
        {
            o = Options(args[1..]);
        }
        catch (FormatException e)
        {
            error.WriteLine(e.Message + "\nusage:\n" + Usage);
            return 2;
        }

        var topic = One(o, "topic") ?? DeadLetters.DefaultTopic;
        var window = One(o, "window");
        await using var mux = await ConnectAsync(One(o, "redis"));
        var db = mux.GetDatabase();
        var letters = await DeadLetters.ListAsync(db, topic);
        var chosen = letters.Where(d => window is null || d.WindowId == window).ToList();
        if (o.TryGetValue("entry", out var entries))
        {
            chosen = [.. chosen.Where(d => entries.Contains(d.EntryId))];
        }

        if (args[0] == "list")
        {
            var limit = int.MaxValue;
            if (One(o, "limit") is { } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
            {
                error.WriteLine($"--limit {l}: a positive number");
                return 2;
            }
            foreach (var d in chosen.Take(limit))
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{d.EntryId}  {d.DeadLetteredAt:yyyy-MM-ddTHH:mm:ss.fffZ}  {d.Id}  {d.Type ?? "-"}  {d.Bytes} B"));
            }

            output.WriteLine($"{chosen.Count} dead letters on {topic}{(window is null ? "" : $" for window {window}")} ({letters.Count} in all)");
            return 0;
        }

        string target;
        try
        {
            target = One(o, "to") ?? DeadLetters.SourceTopic(topic);
        }
        catch (ArgumentException e)
        {
            error.WriteLine(e.Message);
            return 2;
        }

        var replayed = await DeadLetters.ReplayAsync(db, topic, target, [.. chosen.Select(d => d.EntryId)]);
        output.WriteLine($"replayed {replayed} dead letters from {topic} to {target}; {await DeadLetters.CountAsync(db, topic)} left on {topic}");
        return 0;
    }

    /// <summary>Redis at <paramref name="address"/> (else FANVOTE_REDIS_HOST, else 127.0.0.1:6379) with the password the environment names.</summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(string? address)
    {
        var config = ConfigurationOptions.Parse(address ?? Environment.GetEnvironmentVariable("FANVOTE_REDIS_HOST") ?? "127.0.0.1:6379");
        config.AbortOnConnectFail = true;
        config.ConnectTimeout = 5000;
        if (Password() is { Length: > 0 } password)
        {
            config.Password = password;
        }

        return await ConnectionMultiplexer.ConnectAsync(config);
    }

    private static string? Password()
    {
        if (Environment.GetEnvironmentVariable("FANVOTE_REDIS_PASSWORD_FILE") is { Length: > 0 } file && File.Exists(file))
        {
            return File.ReadAllText(file).Trim();
        }

        return Environment.GetEnvironmentVariable("FANVOTE_REDIS_PASSWORD") is { Length: > 0 } p ? p : Environment.GetEnvironmentVariable("REDISCLI_AUTH");
    }

    private static string? One(Dictionary<string, List<string>> o, string name) => o.TryGetValue(name, out var v) ? v[^1] : null;

    private static Dictionary<string, List<string>> Options(string[] args)
    {
        var o = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new FormatException($"unexpected '{args[i]}': options are --name value");
            }

            var name = args[i][2..];
            if (name is not ("topic" or "to" or "window" or "entry" or "limit" or "redis"))
            {
                throw new FormatException($"unknown option --{name}");
            }

            if (!o.TryGetValue(name, out var list))
            {
                o[name] = list = [];
            }

            list.Add(args[++i]);
        }

        return o;
    }
}
