using System.Buffers;

using Microsoft.AspNetCore.Http;

namespace FanVote.ServiceDefaults.Transport;

/// <summary>
/// A request body read into an array rented from the shared pool. Bulk deliveries are a few hundred kilobytes:
/// a fresh buffer for each would land on the large-object heap and drive full collections.
/// </summary>
internal sealed class PooledBody : IDisposable
{
    private byte[] _buffer;
    private int _length;

    private PooledBody(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(4096, capacity));

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    public static async Task<PooledBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = new PooledBody((int)Math.Min(request.ContentLength ?? 64 * 1024, 64 * 1024 * 1024));
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(body._buffer.AsMemory(body._length), cancellationToken)) > 0)
            {
                body._length += n;
                if (body._length == body._buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(body._buffer.Length * 2);
                    body._buffer.AsSpan(0, body._length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(body._buffer);
                    body._buffer = bigger;
                }
            }

            return body;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
