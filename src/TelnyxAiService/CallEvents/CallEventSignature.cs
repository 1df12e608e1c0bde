using System.Security.Cryptography;
using System.Text;

namespace TelnyxAiService.CallEvents;

/// <summary>
/// The <c>Telnyx-AI-Signature</c> header: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>,
/// so a receiver can tell the body came from us and when (to refuse old replays).
/// </summary>
internal static class CallEventSignature
{
    public const string SignatureHeader = "Telnyx-AI-Signature";
    public const string EventIdHeader = "Telnyx-AI-Event-Id";

    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{unixSeconds}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return $"t={unixSeconds},v1={Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed))}";
    }
}
