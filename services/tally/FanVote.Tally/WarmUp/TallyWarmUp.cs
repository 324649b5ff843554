using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Security;
using FanVote.ServiceDefaults;
using FanVote.Tally.Adapters;
using FanVote.Tally.Core;
using FanVote.Transport;

namespace FanVote.Tally.WarmUp;

/// <summary>
/// Tally's hot path, run before /healthz says ready, leaving nothing behind: bulk deliveries of sealed votes for a window
/// only it knows (its id holds a ':', which no real window id can) are decoded as the `votes` subscription decodes
/// them, screened (seal, window, candidate), and written to the ledger by the same statements as a real batch (locks,
/// COPY, counts) in a transaction that is rolled back (<see cref="PostgresVoteLedger.RehearseAsync"/>). The live counts
/// are not touched: nothing is published.
/// </summary>
public sealed class TallyWarmUp(PostgresVoteLedger ledger, VoteScreen screen, VoteSeal seal, TimeProvider time, ILogger<TallyWarmUp> log) : IWarmUpStep
{
    private const int PerBatch = 200;
    private static readonly string[] Candidates = ["warm-a", "warm-b", "warm-c"];

    public string Name => "tally vote path";

    public async Task RunAsync(CancellationToken runFor)
    {
        var now = time.GetUtcNow();
        var window = new TallyWindow("warm-up:" + Guid.NewGuid().ToString("N"), now.AddMinutes(-1), now.AddMinutes(1), Candidates);
        long written = 0;
        var batches = 0;
        for (; !runFor.IsCancellationRequested; batches++)
        {
            var delivered = BulkDelivery.Decode<AcceptedVote, VoteData>(Delivery(window, batches, now));
            var counted = new List<AcceptedVote>(delivered.Count);
            foreach (var e in delivered)
            {
                if (e.Value is { } v && screen.Screen(v, window).Verdict == ScreenVerdict.Count)
                {
                    counted.Add(v);
                }
            }

            written += (await ledger.RehearseAsync(counted, CancellationToken.None)).Inserted;
        }

        TallyLog.WarmedUp(log, written, batches * PerBatch, batches);
    }

    /// <summary>A bulk delivery as the sidecar sends it: CloudEvents whose data is a sealed <see cref="VoteAccepted"/>.</summary>
    private byte[] Delivery(TallyWindow window, int batch, DateTimeOffset now)
    {
        var buffer = new ArrayBufferWriter<byte>(PerBatch * 600);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("entries");
            for (var i = 0; i < PerBatch; i++)
            {
                var n = (batch * PerBatch) + i;
                var account = string.Create(CultureInfo.InvariantCulture, $"warm-up-{n}");
                var (id, candidate, ip, created) = (Guid.CreateVersion7(now), Candidates[n % Candidates.Length], "192.0.2.1", now.AddDays(-30));
                var vote = new VoteAccepted
                {
                    EventId = Guid.NewGuid(),
                    OccurredAt = now,
                    VoteId = id,
                    WindowId = window.WindowId,
                    CandidateId = candidate,
                    AccountId = account,
                    DeviceId = account,
                    Ip = ip,
                    AccountCreatedAt = created,
                    Seal = seal.Seal(id, window.WindowId, candidate, account, account, ip, now, created),
                };
                w.WriteStartObject();
                w.WriteString("entryId", n.ToString(CultureInfo.InvariantCulture));
                w.WriteString("contentType", "application/cloudevents+json");
                w.WriteStartObject("event");
                w.WriteString("id", vote.EventId);
                w.WriteString("type", "fanvote.vote.accepted.v1");
                w.WriteString("datacontenttype", "application/json");
                w.WritePropertyName("data");
                JsonSerializer.Serialize(w, vote, FanVoteJson.Options);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
