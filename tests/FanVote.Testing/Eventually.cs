using System.Text.Json;

namespace FanVote.Testing;

/// <summary>Waiting on conditions, never on time: a generous deadline and a message that says what was awaited.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 200 ms until it holds; fails after <paramref name="seconds"/> naming <paramref name="what"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"timed out after {seconds} s waiting until {what}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The account id inside an ingress session token (its payload is signed base64url JSON, not encrypted).</summary>
    public static string AccountOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        using var payload = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(token.Split('.')[2]));
        return payload.RootElement.GetProperty("sub").GetString()!;
    }
}
