using System.Text;

namespace FanVote.Fraud.Core.Tests;

public sealed class FormatTests
{
    [Fact]
    public void Csv_RoundTripsEveryFieldIncludingQuotedOnes()
    {
        LabelledVote[] rows =
        [
            new(Votes.At(1_234, device: "phone, \"pro\"", ip: "2001:db8::1"), true),
            new(Votes.At(5_000, account: "a\nb"), false),
            new(Votes.At(9_999), null),
        ];
        var text = new StringWriter();
        VoteCsv.WriteHeader(text);
        foreach (var r in rows)
        {
            VoteCsv.Write(text, r);
        }

        var back = VoteCsv.Read(new StringReader(text.ToString())).ToArray();

        Assert.Equal(rows, back);
        Assert.StartsWith(VoteCsv.Header + "\n", text.ToString(), StringComparison.Ordinal);
        Assert.Contains(",2026-05-28T20:27:01.234Z,", text.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vote_id,window_id\n", "line 1: the header")]
    [InlineData(VoteCsv.Header + "\nnot-a-uuid,w,c,a,d,1.2.3.4,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,1\n", "line 2: vote_id")]
    [InlineData(VoteCsv.Header + "\n6f1c3f4e-8d7a-4b8e-9a2e-0c7b4b1f2a10,w,c,a,d,1.2.3.4,yesterday,2026-01-01T00:00:00Z,\n", "line 2: accepted_at")]
    [InlineData(VoteCsv.Header + "\n6f1c3f4e-8d7a-4b8e-9a2e-0c7b4b1f2a10,w,c,a,d,1.2.3.4,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,maybe\n", "line 2: is_fraud")]
    [InlineData(VoteCsv.Header + "\n6f1c3f4e-8d7a-4b8e-9a2e-0c7b4b1f2a10,w,c\n", "line 2: expected 9 fields")]
    public void Csv_MalformedInput_SaysWhichLineAndWhat(string csv, string message)
    {
        var e = Assert.Throws<FormatException>(() => VoteCsv.Read(new StringReader(csv)).ToList());
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BulkVotes_DecodesVotesAndReportsWhatItCannotRead()
    {
        var json = """
            {"entries":[
              {"entryId":"e1","event":{"data":{"voteId":"6f1c3f4e-8d7a-4b8e-9a2e-0c7b4b1f2a10","windowId":"w","candidateId":"c","accountId":"a",
                "deviceId":"d","ip":"203.0.113.7","occurredAt":"2026-11-27T10:00:00.250Z","accountCreatedAt":"2026-01-01T00:00:00Z","schemaVersion":1}}},
              {"entryId":"e2","event":{"data":{"voteId":"6f1c3f4e-8d7a-4b8e-9a2e-0c7b4b1f2a11","schemaVersion":3}}},
              {"entryId":"e3","event":{"data":{"voteId":"6f1c3f4e-8d7a-4b8e-9a2e-0c7b4b1f2a12","windowId":"w","occurredAt":"2026-11-27T10:00:00Z"}}},
              {"entryId":"e4","event":"not an object"}
            ]}
            """;

        var entries = BulkVotes.Decode(Encoding.UTF8.GetBytes(json));

        Assert.Equal(["e1", "e2", "e3", "e4"], entries.Select(e => e.EntryId));
        Assert.Null(entries[0].Error);
        Assert.Equal(new VoteInput(Guid.Parse("6f1c3f4e-8d7a-4b8e-9a2e-0c7b4b1f2a10"), "w", "c", "a", "d", "203.0.113.7",
            DateTimeOffset.Parse("2026-11-27T10:00:00.250Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(),
            DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()), entries[0].Vote);
        Assert.Contains("schema version 3", entries[1].Error, StringComparison.Ordinal);
        Assert.Contains("candidateId is missing", entries[2].Error, StringComparison.Ordinal);
        Assert.NotNull(entries[3].Error);
    }
}
