using System.Globalization;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace TelnyxAiService.Telephony.Telnyx;

public enum WebhookVerification
{
    Valid,
    MissingHeaders,
    Malformed,
    StaleTimestamp,
    BadSignature,
}

/// <summary>
/// Checks Telnyx's Ed25519 webhook signature: <c>telnyx-signature-ed25519</c> signs the UTF-8 bytes of
/// <c>"{telnyx-timestamp}|"</c> followed by the raw body, and the timestamp must be within 300 s of now.
/// </summary>
internal sealed class TelnyxWebhookVerifier
{
    public const string SignatureHeader = "telnyx-signature-ed25519";
    public const string TimestampHeader = "telnyx-timestamp";
    public static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(300);

    private const int SignatureSize = 64;

    private readonly Ed25519PublicKeyParameters _publicKey;
    private readonly TimeProvider _timeProvider;

    public TelnyxWebhookVerifier(byte[] publicKey, TimeProvider timeProvider)
    {
        if (publicKey.Length != Ed25519PublicKeyParameters.KeySize)
        {
            throw new ArgumentException("An Ed25519 public key is 32 bytes.", nameof(publicKey));
        }

        _publicKey = new Ed25519PublicKeyParameters(publicKey, 0);
        _timeProvider = timeProvider;
    }

    /// <summary>Header names are matched case-insensitively, as the dictionary does.</summary>
    public WebhookVerification Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body) =>
        Verify(headers[SignatureHeader].FirstOrDefault(), headers[TimestampHeader].FirstOrDefault(), body);

    public WebhookVerification Verify(string? signature, string? timestamp, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrWhiteSpace(signature) || string.IsNullOrWhiteSpace(timestamp))
        {
            return WebhookVerification.MissingHeaders;
        }

        var signatureBytes = new byte[SignatureSize];
        if (!Convert.TryFromBase64String(signature.Trim(), signatureBytes, out var length) || length != SignatureSize
            || !long.TryParse(timestamp.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return WebhookVerification.Malformed;
        }

        var now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (Math.Abs(now - seconds) > Tolerance.TotalSeconds)
        {
            return WebhookVerification.StaleTimestamp;
        }

        var prefix = Encoding.UTF8.GetBytes(timestamp.Trim() + "|");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));

        var verifier = new Ed25519Signer();
        verifier.Init(false, _publicKey);
        verifier.BlockUpdate(message, 0, message.Length);
        return verifier.VerifySignature(signatureBytes) ? WebhookVerification.Valid : WebhookVerification.BadSignature;
    }
}
