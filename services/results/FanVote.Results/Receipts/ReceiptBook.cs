using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Dapr.Client;
using FanVote.Certification;
using FanVote.Contracts;
using FanVote.Contracts.Events;
using FanVote.Results.Core;

using FanVote.ServiceDefaults.Auth;

namespace FanVote.Results.Receipts;

/// <summary>The answer to a receipt request.</summary>
public sealed record ProofLookup(InclusionProof? Proof, CertifiedResult? Certified, string? Preparing);

/// <summary>
/// Certified results and their receipt chunks in results' Dapr state store (shared by every results instance):
/// `certified|w`, `receipts|w|i` (packed leaves) and `receipts|w|i|meta`. A certified result is stored once, and only
/// when the auditor's signature on it checks; a chunk only for a stored result and within its shape. A proof reads the
/// window's directory (the chunk metas, cached in memory once complete and checked) and the one chunk holding the
/// vote: memory per request is one chunk (70 KB), not the window. Lookups of windows not certified are remembered
/// for a few seconds, so a flood of them does not reach the store.
/// </summary>
public sealed class ReceiptBook(DaprClient dapr, AuditorKey auditor, TimeProvider time)
{
    private static readonly TimeSpan MissKeptFor = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<string, CertifiedResult> _certified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ReceiptDirectory> _directories = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _misses = new(StringComparer.Ordinal);

    /// <summary>Stores the window's certified result if it is the auditor's and none is stored yet; returns why not otherwise (null: stored or already there).</summary>
    public async Task<string?> SaveCertifiedAsync(CertifiedResult result, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (auditor.Problem(result) is { } problem)
        {
            return problem;
        }

        if (await CertifiedAsync(result.WindowId, ct) is { } stored)
        {
            return stored.Digest == result.Digest ? null : $"window {result.WindowId} already has a certified result (digest {stored.Digest[..16]}…); the first one stands";
        }

        await dapr.SaveStateAsync(ComponentNames.State, CertifiedKey(result.WindowId), result, cancellationToken: ct);
        _certified[result.WindowId] = result;
        _misses.TryRemove(result.WindowId, out _);
        return null;
    }

    /// <summary>What the chunk subscription answers for a chunk whose window has no certified result here yet.</summary>
    public const string NotCertifiedYet = "its window has no certified result here yet";

    /// <summary>
    /// Stores one chunk of a certified window's leaves; returns why not when it does not fit that result, or
    /// <see cref="NotCertifiedYet"/> (tally publishes the chunks when it has audited, the orchestrator the certified
    /// result once it has checked the audit, so chunks usually come first: they are delivered again until it is here).
    /// </summary>
    public async Task<string?> SaveChunkAsync(ReceiptChunk chunk, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (await CertifiedAsync(chunk.WindowId, ct) is not { } certified)
        {
            return NotCertifiedYet;
        }

        if (chunk.ChunkCount != certified.ReceiptChunks || chunk.LeafCount != certified.LeafCount || chunk.ChunkIndex < 0 || chunk.ChunkIndex >= certified.ReceiptChunks
            || !chunk.Candidates.SequenceEqual(certified.Candidates) || chunk.Leaves.Length > ((certified.ReceiptChunkSize * 17 / 3) + 4) * 4)
        {
            return "it does not fit the window's certified result (index, counts, candidates or size)";
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(chunk.Leaves);
        }
        catch (FormatException)
        {
            return "its leaves are not base64";
        }

        var meta = ReceiptDirectory.Describe(ReceiptChunks.Unpack(bytes), chunk.Candidates);
        await dapr.SaveByteStateAsync(ComponentNames.State, ChunkKey(chunk.WindowId, chunk.ChunkIndex), bytes, cancellationToken: ct);
        // The meta goes last: a directory only lists chunks whose leaves are stored.
        await dapr.SaveStateAsync(ComponentNames.State, MetaKey(chunk.WindowId, chunk.ChunkIndex), meta, cancellationToken: ct);
        return null;
    }

    public async Task<CertifiedResult?> CertifiedAsync(string windowId, CancellationToken ct)
    {
        if (_certified.TryGetValue(windowId, out var cached))
        {
            return cached;
        }

        var now = time.GetUtcNow();
        if (_misses.TryGetValue(windowId, out var missedAt) && now - missedAt < MissKeptFor)
        {
            return null;
        }

        var stored = await dapr.GetStateAsync<CertifiedResult?>(ComponentNames.State, CertifiedKey(windowId), cancellationToken: ct);
        if (stored is not null)
        {
            _certified[windowId] = stored;
            _misses.TryRemove(windowId, out _);
        }
        else
        {
            if (_misses.Count > 10_000)
            {
                _misses.Clear();
            }

            _misses[windowId] = now;
        }

        return stored;
    }

    public async Task<ProofLookup> ProveAsync(string windowId, Guid voteId, CancellationToken ct)
    {
        var certified = await CertifiedAsync(windowId, ct);
        if (certified is null || certified.LeafCount == 0)
        {
            return new ProofLookup(null, certified, null);
        }

        if (!_directories.TryGetValue(windowId, out var directory))
        {
            var keys = Enumerable.Range(0, certified.ReceiptChunks).Select(i => MetaKey(windowId, i)).ToList();
            var items = await dapr.GetBulkStateAsync(ComponentNames.State, keys, parallelism: 8, cancellationToken: ct);
            var byKey = items.Where(i => !string.IsNullOrEmpty(i.Value)).ToDictionary(i => i.Key, i => JsonSerializer.Deserialize<ChunkMeta>(i.Value, FanVoteJson.Options));
            var (built, problem) = ReceiptDirectory.Build(certified, [.. keys.Select(k => byKey.GetValueOrDefault(k))]);
            if (built is null)
            {
                return new ProofLookup(null, certified, problem);
            }

            directory = _directories.GetOrAdd(windowId, built);
        }

        var chunkIndex = directory.Locate(voteId);
        if (chunkIndex < 0)
        {
            return new ProofLookup(null, certified, null);
        }

        var bytes = await dapr.GetByteStateAsync(ComponentNames.State, ChunkKey(windowId, chunkIndex), cancellationToken: ct);
        return new ProofLookup(directory.Prove(chunkIndex, ReceiptChunks.Unpack(bytes.Span), voteId), certified, null);
    }

    private static string CertifiedKey(string windowId) => $"certified|{windowId}";

    private static string ChunkKey(string windowId, int index) => $"receipts|{windowId}|{index.ToString(CultureInfo.InvariantCulture)}";

    private static string MetaKey(string windowId, int index) => ChunkKey(windowId, index) + "|meta";
}
