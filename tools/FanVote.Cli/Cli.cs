using System.Globalization;
using System.Text.Json;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Rewards.Core;
using FanVote.Security;
using Npgsql;

namespace FanVote.Cli;

/// <summary>
/// The verbs. Exit codes: 0 the thing checked out, 1 it did not (the reason is printed), 2 the command was wrong.
/// </summary>
public static partial class Cli
{
    private const string Usage = """
        usage:
          fanvote receipt verify --proof FILE|URL --certified FILE|URL --public-key FILE|URL [--vote-id ID] [--candidate ID]
          fanvote receipt verify --proof FILE|URL --root HEX --leaf-count N [--vote-id ID] [--candidate ID]
              Checks an inclusion proof (GET :5081/v1/windows/W/receipts/VOTE) against a certified result obtained
              elsewhere (the operator's publication, GET :5082/v1/windows/W/certified, ...), whose auditor's signature
              must check with the published public key (PEM, base64, or GET :5081/v1/certification-key; default:
              FANVOTE_AUDIT_PUBLIC_KEY). --vote-id and --candidate are what your own vote answer said; the proof must
              be about exactly that vote. With --root/--leaf-count you vouch for the root yourself.
          fanvote ledger verify [--connection NPGSQL] [--key-file FILE] [--anchors FILE | --no-anchors yes] [--head SEQ:HASH]
              Walks the points ledger's chain with the ledger key and its balances; names every changed, removed,
              reordered or unkeyed row; and checks the chain against the latest anchor rewards recorded outside the
              database (a ledger shorter than the anchor says, or with another hash at its seq, fails).
              --connection: default FANVOTE_REWARDS_PG_CONNECTION, else FANVOTE_PG_CONNECTION (reading is enough).
              --key-file: a file holding the ledger key (base64); default FANVOTE_LEDGER_KEY.
              --anchors: the anchor file; default FANVOTE_LEDGER_ANCHORS. --no-anchors yes skips it (and says so).
              --head also checks a head recorded elsewhere (RewardsPaid / the window's payout status).
          fanvote actions verify [--url URL] [--operator-key-file FILE] [--key-file FILE] [--anchors FILE|DIR | --no-anchors yes]
              Reads the operator action log (GET /v1/actions with an operator's key: FANVOTE_OPERATOR_KEY or the file) and walks
              its chain with the action log key; names every changed, removed or reordered row; and checks it against
              the latest anchor the orchestrator recorded outside the state store (a cut or re-chained tail fails).
              --url: the orchestrator; default FANVOTE_ORCHESTRATOR_URL, else http://127.0.0.1:5082.
              --key-file: a file holding the action log key (base64); default FANVOTE_ACTION_LOG_KEY.
              --anchors: an anchor file, or a directory of them (*.jsonl, one per replica); default FANVOTE_ACTION_LOG_ANCHORS.
          fanvote spin verify --wheel FILE|URL --spins FILE|URL [--token-file FILE]
              Recomputes spins of a closed wheel from its revealed server seed (GET :5085/v1/wheels/W, which carries the
              odds table, the commitment published before the spins and the seed): the seed must match the commitment,
              every spin its recomputed segment and prize, and each fan's nonces must run 1, 2, 3, ... without a gap.
              --spins: a fan's GET :5085/v1/me/spins?wheel=W&limit=1000 (saved, or fetched with the token in --token-file).
          fanvote raffle verify --raffle FILE|URL --entries FILE|URL
              Recomputes a drawn raffle (GET :5085/v1/raffles/R: prizes, the commitment published when entries opened,
              the revealed seed, the entry list's digest, the winners) from its entry list (GET :5085/v1/raffles/R/entries):
              the seed must match the commitment, the list its digest with tickets 1..n, and the winners the draw.
              Your own tickets are there under your holder pseudonym (your entry's answer says it).
          fanvote actions list [--url URL] [--operator-key-file FILE] [--after SEQ] [--limit N]
              Prints the action log, one row per line: seq, time, actor, action, target, outcome, from.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            return args switch
            {
                ["receipt", "verify", .. var rest] => await VerifyReceiptAsync(Options(rest), output),
                ["ledger", "verify", .. var rest] => await VerifyLedgerAsync(Options(rest), output),
                ["actions", "verify", .. var rest] => await VerifyActionsAsync(Options(rest), output),
                ["spin", "verify", .. var rest] => await VerifySpinsAsync(Options(rest), output),
                ["raffle", "verify", .. var rest] => await VerifyRaffleAsync(Options(rest), output),
                ["actions", "list", .. var rest] => await ListActionsAsync(Options(rest), output),
                ["dlq", .. var rest] => await DeadLetterCommands.RunAsync(rest, output, error),
                _ => Fail(error, Usage + "\n" + DeadLetterCommands.Usage),
            };
        }
        catch (UsageException e)
        {
            return Fail(error, e.Message + "\n" + Usage);
        }
    }

    private static async Task<int> VerifySpinsAsync(Dictionary<string, string> o, TextWriter output)
    {
        var token = o.TryGetValue("token-file", out var tokenFile) ? (await File.ReadAllTextAsync(tokenFile)).Trim() : null;
        using var wheelDoc = JsonDocument.Parse(await ReadAsync(Need(o, "wheel")));
        using var spinsDoc = JsonDocument.Parse(await ReadAsync(Need(o, "spins"), token));
        var w = wheelDoc.RootElement;
        string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new UsageException($"--wheel: no {name}");
        var wheelId = Text(w, "wheelId");
        var wheel = new SpinWheel(wheelId, Text(w, "name"), w.GetProperty("cost").GetInt64(),
            [.. w.GetProperty("segments").EnumerateArray().Select(s => new WheelSegment(s.GetProperty("label").GetString()!, s.GetProperty("weight").GetInt32(), s.GetProperty("prize").GetInt64()))]);
        if (!w.TryGetProperty("serverSeed", out var seedText) || seedText.ValueKind != JsonValueKind.String)
        {
            output.WriteLine($"NOT YET: wheel '{wheelId}' has not revealed its server seed (it is revealed when the wheel closes); its commitment is {Text(w, "commitment")}");
            return 1;
        }

        var spins = spinsDoc.RootElement.GetProperty("spins").EnumerateArray()
            .Where(s => s.GetProperty("wheelId").GetString() == wheelId)
            .Select(s => new PublishedSpin(s.GetProperty("accountId").GetString()!, s.GetProperty("nonce").GetInt64(), s.GetProperty("clientSeed").GetString()!,
                s.GetProperty("segment").GetInt32(), s.GetProperty("prize").GetInt64()))
            .ToList();
        var findings = SpinVerifier.Verify(wheel, Text(w, "commitment"), Convert.FromHexString(seedText.GetString()!), spins);
        foreach (var f in findings)
        {
            output.WriteLine("FAILED: " + f);
        }

        if (findings.Count == 0)
        {
            output.WriteLine($"OK: the server seed matches the commitment {Text(w, "commitment")}, and all {spins.Count} spins of wheel '{wheelId}' recompute to the segment and prize they were given");
        }

        return findings.Count == 0 ? 0 : 1;
    }

    private static async Task<int> VerifyRaffleAsync(Dictionary<string, string> o, TextWriter output)
    {
        using var raffleDoc = JsonDocument.Parse(await ReadAsync(Need(o, "raffle")));
        using var entriesDoc = JsonDocument.Parse(await ReadAsync(Need(o, "entries")));
        var r = raffleDoc.RootElement;
        string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var raffleId = Text(r, "raffleId") ?? throw new UsageException("--raffle: no raffleId");
        var commitment = Text(r, "commitment") ?? throw new UsageException("--raffle: no commitment");
        var raffle = new Raffle(raffleId, Text(r, "name") ?? "", r.GetProperty("ticketCost").GetInt64(), r.GetProperty("maxTicketsPerFan").GetInt32(),
            [.. r.GetProperty("prizes").EnumerateArray().Select(p => new RafflePrize(p.GetProperty("label").GetString()!, p.GetProperty("count").GetInt32(), p.GetProperty("points").GetInt64()))]);
        if (Text(r, "serverSeed") is not { } seed || Text(r, "entriesDigest") is not { } digest || !r.TryGetProperty("winners", out var winnersJson) || winnersJson.ValueKind != JsonValueKind.Array)
        {
            output.WriteLine($"NOT YET: raffle '{raffleId}' is not drawn (its seed is revealed at the draw); its commitment is {commitment}");
            return 1;
        }

        if (Text(entriesDoc.RootElement, "raffleId") is { } listed && listed != raffleId)
        {
            throw new UsageException($"--entries is the list of raffle '{listed}', not '{raffleId}'");
        }

        var tickets = entriesDoc.RootElement.GetProperty("tickets").EnumerateArray()
            .Select(t => new RaffleTicket(t.GetProperty("ticket").GetInt64(), t.GetProperty("holder").GetString()!)).ToList();
        var winners = winnersJson.EnumerateArray().Select(w => new RaffleWinner(w.GetProperty("prize").GetInt32(), w.GetProperty("label").GetString()!,
            w.GetProperty("points").GetInt64(), w.GetProperty("ticket").GetInt64(), w.GetProperty("holder").GetString()!)).ToList();
        var findings = RaffleDraw.Verify(raffle, commitment, Convert.FromHexString(seed), tickets, digest, winners);
        foreach (var f in findings)
        {
            output.WriteLine("FAILED: " + f);
        }

        if (findings.Count == 0)
        {
            output.WriteLine($"OK: the server seed matches the commitment {commitment}, the {tickets.Count} tickets match the digest drawn from, and the {winners.Count} winners of raffle '{raffleId}' are the draw's");
        }

        return findings.Count == 0 ? 0 : 1;
    }

    private static async Task<int> VerifyReceiptAsync(Dictionary<string, string> o, TextWriter output)
    {
        var proof = JsonSerializer.Deserialize<InclusionProof>(await ReadAsync(Need(o, "proof")), FanVoteJson.Options)
            ?? throw new UsageException("--proof is not an inclusion proof");
        string root;
        long leaves;
        if (o.TryGetValue("certified", out var certifiedSource))
        {
            var certified = JsonSerializer.Deserialize<CertifiedResult>(await ReadAsync(certifiedSource), FanVoteJson.Options)
                ?? throw new UsageException("--certified is not a certified result");
            if (!CertifiedDigest.Matches(certified))
            {
                output.WriteLine($"FAILED: the certified result's digest {certified.Digest} does not match its content (expected {CertifiedDigest.Compute(certified)})");
                return 1;
            }

            var keyText = o.TryGetValue("public-key", out var keySource) ? await ReadAsync(keySource) : Environment.GetEnvironmentVariable(AuditSignature.PublicKeySetting)
                ?? throw new UsageException($"--public-key is required (or {AuditSignature.PublicKeySetting}): the certified result is trusted only with the auditor's signature");
            using var key = PublicKey(keyText);
            if (AuditSignature.Problem(certified, key) is { } signature)
            {
                output.WriteLine($"FAILED: the certified result is not the auditor's: {signature}");
                return 1;
            }

            if (certified.WindowId != proof.WindowId)
            {
                output.WriteLine($"FAILED: the proof is for window '{proof.WindowId}', the certified result for '{certified.WindowId}'");
                return 1;
            }

            (root, leaves) = (certified.MerkleRoot, certified.LeafCount);
        }
        else
        {
            root = Need(o, "root");
            leaves = long.TryParse(Need(o, "leaf-count"), CultureInfo.InvariantCulture, out var n) ? n : throw new UsageException("--leaf-count must be a number");
        }

        Guid? voteId = o.TryGetValue("vote-id", out var v) ? (Guid.TryParse(v, out var g) ? g : throw new UsageException("--vote-id is not a vote id")) : null;
        var verdict = ReceiptVerifier.Verify(proof, root, leaves, voteId, o.GetValueOrDefault("candidate"));
        output.WriteLine(verdict.Valid ? "OK: " + verdict.Reason : "FAILED: " + verdict.Reason);
        return verdict.Valid ? 0 : 1;
    }

    private static async Task<int> VerifyLedgerAsync(Dictionary<string, string> o, TextWriter output)
    {
        var connection = o.GetValueOrDefault("connection") ?? Env("FANVOTE_REWARDS_PG_CONNECTION") ?? Env("FANVOTE_PG_CONNECTION")
            ?? throw new UsageException("give --connection or set FANVOTE_REWARDS_PG_CONNECTION (the rewards service's PostgreSQL)");
        var key = new LedgerKey(await ChainKeyAsync(o, LedgerKey.Setting, "the ledger's"));

        var heads = new List<LedgerHead>();
        if (o.TryGetValue("head", out var h))
        {
            var parts = h.Split(':', 2);
            heads.Add(parts.Length == 2 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var seq)
                ? new LedgerHead(seq, Convert.FromHexString(parts[1]), "--head")
                : throw new UsageException("--head must look like SEQ:HEXHASH"));
        }

        var skipAnchors = o.GetValueOrDefault("no-anchors") is "yes" or "true";
        var anchorPath = o.GetValueOrDefault("anchors") ?? Env(LedgerAnchors.Setting);
        if (anchorPath is null && !skipAnchors)
        {
            throw new UsageException($"give --anchors or set {LedgerAnchors.Setting} (the file rewards appends the ledger's heads to), or --no-anchors yes");
        }

        await using var db = NpgsqlDataSource.Create(connection);
        var rows = new List<LedgerEntry>();
        await using (var cmd = db.CreateCommand("""
            SELECT seq, entry_id, window_id, debit_account, credit_account, amount, reason, created_at, prev_hash, hash, chain FROM ledger_entries ORDER BY seq
            """))
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                rows.Add(new LedgerEntry(r.GetInt64(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetString(6),
                    r.GetFieldValue<DateTimeOffset>(7), (byte[])r[8], (byte[])r[9]) { Chain = r.GetInt16(10) });
            }
        }

        var balances = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var cmd = db.CreateCommand("SELECT account, balance FROM account_balances"))
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                balances[r.GetString(0)] = r.GetInt64(1);
            }
        }

        var extra = new List<string>();
        ChainAnchor? latest = null;
        if (!skipAnchors)
        {
            var file = LedgerAnchors.Read(key, File.Exists(anchorPath) ? await File.ReadAllLinesAsync(anchorPath!) : []);
            foreach (var (line, problem) in file.Bad)
            {
                extra.Add($"anchor: line {line} of {anchorPath}: {problem}");
            }

            latest = file.Latest;
            if (latest is not null)
            {
                heads.Add(new LedgerHead(latest.Seq, latest.Head, S($"the latest anchor in {anchorPath}, recorded {latest.At:u}")));
            }
            else if (rows.Count > 0)
            {
                extra.Add($"anchor: {anchorPath} holds no anchor, yet the ledger has {rows.Count} rows: rewards anchors after every payout and credit, so its anchors were lost or never written");
            }
        }

        var report = LedgerVerifier.Verify(key, rows, balances, heads);
        var findings = report.Findings.Select(f => $"{f.Kind.ToString().ToLowerInvariant()}: {f.Message}").Concat(extra).ToList();
        var head = rows.Count > 0 ? rows[^1] : null;
        return PrintVerdict(output, "ledger", report.Rows, head is null ? null : (head.Seq, Convert.ToHexStringLower(head.Hash)), skipAnchors, latest, findings);
    }

    /// <summary>
    /// The verdict of `ledger verify` and `actions verify`: OK with the head and what the anchors showed, or FAILED with
    /// every finding. Exit code 0 or 1.
    /// </summary>
    private static int PrintVerdict(TextWriter output, string what, long rows, (long Seq, string Hash)? head, bool skipAnchors, ChainAnchor? latest, List<string> findings)
    {
        if (findings.Count == 0)
        {
            output.WriteLine($"OK: the {what} is intact: {rows} rows" + (head is { } h ? $", head #{h.Seq} {h.Hash}" : ""));
            output.WriteLine(skipAnchors
                ? $"  anchors NOT checked (--no-anchors): rows removed from the end of the {what} would not show"
                : latest is null ? $"  no anchor yet (the {what} is empty)"
                : S($"  matches the latest anchor, row {latest.Seq} recorded {latest.At:u}; {(head?.Seq ?? 0) - latest.Seq} rows after it not anchored yet"));
            return 0;
        }

        output.WriteLine($"FAILED: the {what} was tampered with ({findings.Count} findings in {rows} rows):");
        foreach (var f in findings)
        {
            output.WriteLine("  " + f);
        }

        return 1;
    }

    /// <summary>A chain's key: the file of --key-file, else the setting <paramref name="setting"/> (base64, 32+ bytes).</summary>
    private static async Task<byte[]> ChainKeyAsync(Dictionary<string, string> o, string setting, string whose)
    {
        var keyText = o.TryGetValue("key-file", out var keyFile)
            ? (File.Exists(keyFile) ? await File.ReadAllTextAsync(keyFile) : throw new UsageException($"--key-file {keyFile}: no such file"))
            : Env(setting) ?? throw new UsageException($"give --key-file or set {setting}: {whose} chain is checked with its key");
        try
        {
            return KeySet.Decode(setting, keyText);
        }
        catch (KeyConfigurationException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    private static string S(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, string> Options(string[] args)
    {
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new UsageException($"unexpected '{args[i]}': options are --name value");
            }

            o[args[i][2..]] = args[++i];
        }

        return o;
    }

    private static string Need(Dictionary<string, string> o, string name) =>
        o.TryGetValue(name, out var v) ? v : throw new UsageException($"--{name} is required");

    private static async Task<string> ReadAsync(string source, string? bearer = null)
    {
        if (source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(source));
            if (bearer is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
            }

            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return response.IsSuccessStatusCode ? body : throw new UsageException($"{source} answered {(int)response.StatusCode}: {body}");
        }

        return File.Exists(source) ? await File.ReadAllTextAsync(source) : throw new UsageException($"{source}: no such file");
    }

    /// <summary>A PEM or base64 public key, or the JSON of GET /v1/certification-key (its publicKeyPem).</summary>
    private static System.Security.Cryptography.ECDsa PublicKey(string text)
    {
        if (text.TrimStart().StartsWith('{'))
        {
            using var doc = JsonDocument.Parse(text);
            text = doc.RootElement.TryGetProperty("publicKeyPem", out var pem) ? pem.GetString() ?? "" : throw new UsageException("--public-key: JSON without publicKeyPem");
        }

        try
        {
            return AuditSignature.LoadPublicKey(text);
        }
        catch (FormatException e)
        {
            throw new UsageException("--public-key: " + e.Message);
        }
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine(message);
        return 2;
    }

    private sealed class UsageException(string message) : Exception(message);
}
