using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace TelnyxAiService.Emulators.Telnyx;

/// <summary>Signs webhooks as Telnyx does: Ed25519 over the UTF-8 bytes of "{timestamp}|" followed by the body.</summary>
public sealed class WebhookSigner
{
    private readonly Ed25519PrivateKeyParameters _privateKey;

    public WebhookSigner(byte[]? seed)
    {
        _privateKey = new Ed25519PrivateKeyParameters(seed ?? RandomNumberGenerator.GetBytes(Ed25519PrivateKeyParameters.KeySize), 0);
        PublicKeyBase64 = Convert.ToBase64String(_privateKey.GeneratePublicKey().GetEncoded());
    }

    /// <summary>The raw 32-byte public key, base64, as Mission Control shows it.</summary>
    public string PublicKeyBase64 { get; }

    /// <returns>The telnyx-signature-ed25519 header value (base64 of 64 bytes).</returns>
    public string Sign(long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + "|");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        var signer = new Ed25519Signer();
        signer.Init(true, _privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        return Convert.ToBase64String(signer.GenerateSignature());
    }
}
