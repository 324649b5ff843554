using FanVote.Fraud.Core;
using Npgsql;

namespace FanVote.FraudModel.Trainer;

/// <summary>
/// `export`: one window's votes from tally's ledger (the <c>votes</c> table) in the CSV schema, in accepted_at order.
/// is_fraud stays empty: flags in the ledger are the model's own opinion, not ground truth, and training on them would
/// only teach the model to agree with itself. Label reviewed incidents before training on an export.
/// </summary>
internal static class Export
{
    public static void Run(string window, string path, string connectionString, TextWriter output, TextWriter err)
    {
        using var db = NpgsqlDataSource.Create(connectionString);
        long total;
        using (var count = db.CreateCommand("SELECT count(*) FROM votes WHERE window_id = $1"))
        {
            count.Parameters.AddWithValue(window);
            total = (long)count.ExecuteScalar()!;
        }

        if (total == 0)
        {
            throw new InvalidOperationException($"the ledger has no votes for window '{window}' (check the id and the connection string)");
        }

        using var cmd = db.CreateCommand("""
            SELECT vote_id, window_id, candidate_id, account_id, device_id, ip, accepted_at, account_created_at
            FROM votes WHERE window_id = $1 ORDER BY accepted_at, vote_id
            """);
        cmd.Parameters.AddWithValue(window);
        using var reader = cmd.ExecuteReader();
        using var writer = new StreamWriter(path);
        using var progress = new Progress($"exporting {window}", total, err);
        VoteCsv.WriteHeader(writer);
        long n = 0;
        while (reader.Read())
        {
            var vote = new VoteInput(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                new DateTimeOffset(reader.GetDateTime(6), TimeSpan.Zero).ToUnixTimeMilliseconds(), new DateTimeOffset(reader.GetDateTime(7), TimeSpan.Zero).ToUnixTimeMilliseconds());
            VoteCsv.Write(writer, new LabelledVote(vote, null));
            if ((++n & 8191) == 0)
            {
                progress.Report(n);
            }
        }

        output.WriteLine($"{n:N0} votes of window {window} written to {path}");
    }
}
