using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FanVote.Sidecar.Components;
using FanVote.Sidecar.Configuration;
using Npgsql;
using NpgsqlTypes;

namespace FanVote.Sidecar.State;

/// <summary>
/// `state.postgresql` v1 and v2 with components-contrib's tables and etag rules (docs/dapr-subset.md §6.6).
/// v1: `tableName` (default `state`), jsonb value (bytes from gRPC stored base64 with isbinary=true), etag = xmin.
/// v2: `&lt;tablePrefix&gt;state`, bytea value, etag = a UUID regenerated on every write.
/// Both: an etag on a missing row is a mismatch, expired rows are invisible and collected every
/// `cleanupInterval`, transactions are real database transactions.
/// </summary>
public sealed partial class PostgresStateStore(ComponentSpec spec, ILogger<PostgresStateStore> log) : IStateStore
{
    private NpgsqlDataSource? _db;
    private string _table = "";
    private bool _v2;
    private CancellationTokenSource? _cleanupStop;

    public ComponentSpec Spec => spec;

    private NpgsqlDataSource Db => _db ?? throw new InvalidOperationException("not initialised");

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        _v2 = spec.Version == "v2";
        var cs = spec.Get("connectionString") is { Length: > 0 } c ? c : BuildConnectionString();
        var csb = new NpgsqlConnectionStringBuilder(cs);
        if (spec.Get("timeout") is { Length: > 0 } t)
        {
            csb.CommandTimeout = (int)Math.Ceiling(ParseDuration(t, "timeout").TotalSeconds);
        }

        if (int.TryParse(spec.Get("maxConns"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var maxConns))
        {
            csb.MaxPoolSize = maxConns;
        }

        _db = NpgsqlDataSource.Create(csb);
        _table = _v2 ? Ident(spec.GetOr("tablePrefix", "") + "state") : Ident(spec.GetOr("tableName", "state"));
        var metadataTable = Ident(spec.GetOr("metadataTableName", "dapr_metadata"));
        var ddl = _v2
            ? $"""
               CREATE TABLE IF NOT EXISTS {_table} (
                 key text NOT NULL PRIMARY KEY, value bytea NOT NULL, etag uuid NOT NULL,
                 created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz, expires_at timestamptz);
               CREATE INDEX IF NOT EXISTS {Ident(_table.Trim('"') + "_expires_at")} ON {_table} (expires_at);
               """
            : $"""
               CREATE TABLE IF NOT EXISTS {_table} (
                 key text NOT NULL PRIMARY KEY, value jsonb NOT NULL, isbinary boolean NOT NULL,
                 insertdate timestamptz NOT NULL DEFAULT now(), updatedate timestamptz, expiredate timestamptz);
               """;
        await using (var conn = await Db.OpenConnectionAsync(cancellationToken))
        {
            // Several sidecars may start at once against one database: serialize the DDL.
            await using var tx = await conn.BeginTransactionAsync(cancellationToken);
            await Exec(conn, tx, "SELECT pg_advisory_xact_lock(7155021)", cancellationToken);
            await Exec(conn, tx, $"CREATE TABLE IF NOT EXISTS {metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)", cancellationToken);
            await Exec(conn, tx, ddl, cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        var interval = spec.Get("cleanupInterval") is { Length: > 0 } ci
            ? int.TryParse(ci, NumberStyles.Integer, CultureInfo.InvariantCulture, out var secs) ? TimeSpan.FromSeconds(secs) : ParseDuration(ci, "cleanupInterval")
            : TimeSpan.FromHours(1);
        if (interval > TimeSpan.Zero)
        {
            _cleanupStop = new CancellationTokenSource();
            _ = CleanupLoopAsync(interval, _cleanupStop.Token);
        }

        var target = $"{csb.Host}:{csb.Port}/{csb.Database} table {_table} ({spec.Version})";
        StateLog.StoreReady(log, spec.Name, target);
    }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var sql = _v2
            ? $"SELECT value, etag::text, expires_at FROM {_table} WHERE key = $1 AND (expires_at IS NULL OR expires_at > now())"
            : $"SELECT value::text, xmin::text, expiredate, isbinary FROM {_table} WHERE key = $1 AND (expiredate IS NULL OR expiredate > now())";
        await using var cmd = Db.CreateCommand(sql);
        cmd.Parameters.AddWithValue(key);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }

        DateTimeOffset? expires = r.IsDBNull(2) ? null : new DateTimeOffset(r.GetDateTime(2), TimeSpan.Zero);
        byte[] value;
        if (_v2)
        {
            value = (byte[])r.GetValue(0);
        }
        else
        {
            var json = r.GetString(0);
            value = r.GetBoolean(3) ? Convert.FromBase64String(JsonSerializer.Deserialize<string>(json)!) : Encoding.UTF8.GetBytes(json);
        }

        return new StateEntry(value, r.GetString(1), StateTtl.ExpiryMetadata(expires));
    }

    public Task SetAsync(StateWrite write, CancellationToken cancellationToken) =>
        ExecuteTransactionAsync([new UpsertOperation(write)], cancellationToken);

    public Task DeleteAsync(StateDelete request, CancellationToken cancellationToken) =>
        ExecuteTransactionAsync([new DeleteOperation(request)], cancellationToken);

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        await using var conn = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        foreach (var op in operations)
        {
            switch (op)
            {
                case UpsertOperation { Write: var w }:
                    await UpsertAsync(conn, tx, w, cancellationToken);
                    break;
                case DeleteOperation { Delete: var d }:
                    await DeleteRowAsync(conn, tx, d, cancellationToken);
                    break;
                default:
                    throw new StateStoreException($"unknown operation {op.GetType().Name}");
            }
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var cmd = Db.CreateCommand("SELECT 1");
            await cmd.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<StateEntry?>> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var sql = _v2
            ? $"SELECT key, value, etag::text, expires_at FROM {_table} WHERE key = ANY($1) AND (expires_at IS NULL OR expires_at > now())"
            : $"SELECT key, value::text, xmin::text, expiredate, isbinary FROM {_table} WHERE key = ANY($1) AND (expiredate IS NULL OR expiredate > now())";
        await using var cmd = Db.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var found = new Dictionary<string, StateEntry>(StringComparer.Ordinal);
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await r.ReadAsync(cancellationToken))
            {
                DateTimeOffset? expires = r.IsDBNull(3) ? null : new DateTimeOffset(r.GetDateTime(3), TimeSpan.Zero);
                var value = _v2 ? (byte[])r.GetValue(1) : V1Value(r.GetString(1), r.GetBoolean(4));
                found[r.GetString(0)] = new StateEntry(value, r.GetString(2), StateTtl.ExpiryMetadata(expires));
            }
        }

        return [.. keys.Select(k => found.GetValueOrDefault(k))];
    }

    public async Task<IReadOnlyList<string>> ListKeysAsync(string prefix, string suffix, string? after, int limit, CancellationToken cancellationToken)
    {
        var expiry = _v2 ? "expires_at" : "expiredate";
        await using var cmd = Db.CreateCommand(
            $"SELECT key FROM {_table} WHERE key LIKE $1 ESCAPE '\\' AND ($2::text IS NULL OR key COLLATE \"C\" > $2) AND ({expiry} IS NULL OR {expiry} > now()) ORDER BY key COLLATE \"C\" LIMIT $3");
        cmd.Parameters.AddWithValue(LikeEscape(prefix) + "%" + LikeEscape(suffix));
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.AddWithValue(limit);
        var keys = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            keys.Add(r.GetString(0));
        }

        return keys;
    }

    private static string LikeEscape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private static byte[] V1Value(string json, bool isBinary) =>
        isBinary ? Convert.FromBase64String(JsonSerializer.Deserialize<string>(json)!) : Encoding.UTF8.GetBytes(json);

    public async ValueTask DisposeAsync()
    {
        if (_cleanupStop is not null)
        {
            await _cleanupStop.CancelAsync();
            _cleanupStop.Dispose();
        }

        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }

    private async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, StateWrite w, CancellationToken ct)
    {
        var ttl = StateTtl.Resolve(w.Metadata, spec);
        var expires = ttl is > 0 ? $"now() + interval '{ttl.Value} seconds'" : "NULL";
        var etag = w.Concurrency == StateConcurrency.LastWrite ? null : w.ETag;
        string sql;
        var args = new List<object> { w.Key };
        if (_v2)
        {
            args.Add(w.Value.ToArray());
            if (string.IsNullOrEmpty(etag))
            {
                sql = $"""
                    INSERT INTO {_table} (key, value, etag, expires_at) VALUES ($1, $2, gen_random_uuid(), {expires})
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, updated_at = now(), expires_at = excluded.expires_at
                    """ + (w.Concurrency == StateConcurrency.FirstWrite ? $" WHERE {_table}.expires_at IS NOT NULL AND {_table}.expires_at <= now()" : "");
            }
            else
            {
                args.Add(Guid.TryParse(etag, out var g) ? g : throw new StateETagMismatchException($"etag '{etag}' is not a UUID"));
                sql = $"UPDATE {_table} SET value = $2, etag = gen_random_uuid(), updated_at = now(), expires_at = {expires} WHERE key = $1 AND etag = $3 AND (expires_at IS NULL OR expires_at > now())";
            }
        }
        else
        {
            var (json, isBinary) = ToJsonb(w.Value);
            args.Add(json);
            args.Add(isBinary);
            if (string.IsNullOrEmpty(etag))
            {
                sql = $"""
                    INSERT INTO {_table} (key, value, isbinary, expiredate) VALUES ($1, $2::jsonb, $3, {expires})
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, isbinary = excluded.isbinary, updatedate = now(), expiredate = excluded.expiredate
                    """ + (w.Concurrency == StateConcurrency.FirstWrite ? $" WHERE {_table}.expiredate IS NOT NULL AND {_table}.expiredate <= now()" : "");
            }
            else
            {
                args.Add(uint.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var x) ? (long)x : throw new StateETagInvalidException($"etag '{etag}' is not a uint32"));
                sql = $"UPDATE {_table} SET value = $2::jsonb, isbinary = $3, updatedate = now(), expiredate = {expires} WHERE key = $1 AND xmin::text::bigint = $4 AND (expiredate IS NULL OR expiredate > now())";
            }
        }

        var rows = await Exec(conn, tx, sql, ct, [.. args]);
        if (rows == 0)
        {
            if (string.IsNullOrEmpty(etag))
            {
                throw new StateStoreException($"no item was updated: key {w.Key} exists and first-write concurrency was requested");
            }

            throw new StateETagMismatchException($"no item was updated for key {w.Key}: etag mismatch or missing key");
        }
    }

    private async Task DeleteRowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, StateDelete d, CancellationToken ct)
    {
        var etag = d.Concurrency == StateConcurrency.LastWrite ? null : d.ETag;
        if (string.IsNullOrEmpty(etag))
        {
            await Exec(conn, tx, $"DELETE FROM {_table} WHERE key = $1", ct, d.Key);
            return;
        }

        int rows;
        if (_v2)
        {
            var g = Guid.TryParse(etag, out var parsed) ? parsed : throw new StateETagMismatchException($"etag '{etag}' is not a UUID");
            rows = await Exec(conn, tx, $"DELETE FROM {_table} WHERE key = $1 AND etag = $2", ct, d.Key, g);
        }
        else
        {
            var x = uint.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? (long)v : throw new StateETagInvalidException($"etag '{etag}' is not a uint32");
            rows = await Exec(conn, tx, $"DELETE FROM {_table} WHERE key = $1 AND xmin::text::bigint = $2", ct, d.Key, x);
        }

        if (rows == 0)
        {
            throw new StateETagMismatchException($"no item was deleted for key {d.Key}: etag mismatch or missing key");
        }
    }

    private async Task CleanupLoopAsync(TimeSpan interval, CancellationToken stop)
    {
        var column = _v2 ? "expires_at" : "expiredate";
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await using var cmd = Db.CreateCommand($"DELETE FROM {_table} WHERE {column} IS NOT NULL AND {column} < now()");
                    var n = await cmd.ExecuteNonQueryAsync(stop);
                    if (n > 0)
                    {
                        StateLog.Cleaned(log, spec.Name, n);
                    }
                }
                catch (NpgsqlException e)
                {
                    StateLog.CleanupFailed(log, e, spec.Name);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// daprd hands gRPC values to the component as bytes, and contrib's v1 stores every byte value base64-encoded
    /// with isbinary=true. Storing JSON as jsonb instead would change the bytes (jsonb reorders keys, drops
    /// duplicates, re-spaces) and reject strings containing U+0000.
    /// </summary>
    private static (string Json, bool IsBinary) ToJsonb(ReadOnlyMemory<byte> value) =>
        (JsonSerializer.Serialize(Convert.ToBase64String(value.Span)), true);

    private static async Task<int> Exec(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args)
        {
            cmd.Parameters.Add(a is byte[] b ? new NpgsqlParameter { Value = b, NpgsqlDbType = NpgsqlDbType.Bytea } : new NpgsqlParameter { Value = a });
        }

        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private string BuildConnectionString()
    {
        var host = spec.Get("host") ?? throw new ArgumentException("metadata connectionString (or host/port/database/user/password) is required");
        return new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = int.TryParse(spec.Get("port"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : 5432,
            Database = spec.Get("database") ?? "postgres",
            Username = spec.Get("user") ?? "postgres",
            Password = spec.Get("password"),
        }.ConnectionString;
    }

    private static TimeSpan ParseDuration(string s, string name) =>
        Durations.TryParse(s, out var d) ? d : throw new ArgumentException($"metadata {name} '{s}' is not a duration");

    /// <summary>Table names come from YAML: allow only plain identifiers (optionally schema-qualified).</summary>
    private static string Ident(string name) =>
        IdentPattern().IsMatch(name)
            ? string.Join('.', name.Split('.').Select(p => $"\"{p}\""))
            : throw new ArgumentException($"'{name}' is not a valid table name (letters, digits, _ and one optional schema.)");

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")]
    private static partial Regex IdentPattern();
}
