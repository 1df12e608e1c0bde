using TelnyxAiService.Configuration;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>Telnyx settings, from the same variables as the original service plus the verification key.</summary>
public sealed record TelnyxOptions(
    string ApiKey,
    string ConnectionId,
    string PhoneNumber,
    Uri ApiBaseUrl,
    Uri WebhookBaseUrl,
    byte[]? PublicKey,
    bool VerifyWebhooks,
    bool UseMediaStreams)
{
    public const string DefaultApiBaseUrl = "https://api.telnyx.com/v2";

    /// <summary>Without TELNYX_API_KEY: no phone calls (the API says so), while browser calls and the console work.</summary>
    public static readonly TelnyxOptions NotConfigured = new("", "", "", new Uri(DefaultApiBaseUrl), new Uri("http://localhost/"), null, true, true);

    /// <summary>Whether phone calls can be placed and taken (TELNYX_API_KEY is set).</summary>
    public bool Configured => ApiKey.Length > 0;

    /// <summary>Where Telnyx posts call events.</summary>
    public Uri WebhookUrl => new($"{WebhookBaseUrl.ToString().TrimEnd('/')}/webhook/telnyx");

    /// <summary>Where Telnyx opens the media stream: the webhook base with http(s) turned into ws(s).</summary>
    public Uri StreamUrl => new($"{(WebhookBaseUrl.Scheme == "https" ? "wss" : "ws")}://{WebhookBaseUrl.Authority}{WebhookBaseUrl.AbsolutePath.TrimEnd('/')}/stream/media");

    /// <summary>The settings; <see cref="NotConfigured"/> without TELNYX_API_KEY, otherwise the rest are required.</summary>
    public static TelnyxOptions Read(SettingsReader settings)
    {
        if (settings.Optional("TELNYX_API_KEY") is not { } apiKey)
        {
            return NotConfigured;
        }

        var connectionId = settings.Optional("TELNYX_CONNECTION_ID") ?? throw new InvalidSettingException("TELNYX_CONNECTION_ID", "is required (the Call Control application id)");
        var phone = settings.Optional("TELNYX_PHONE_NUMBER") ?? throw new InvalidSettingException("TELNYX_PHONE_NUMBER", "is required (the number calls come from, E.164)");
        if (!Telephony.PhoneNumber.IsE164(phone))
        {
            throw new InvalidSettingException("TELNYX_PHONE_NUMBER", $"must be E.164 ('+' and 8 to 15 digits), got '{phone}'");
        }

        var webhookBase = settings.Url("WEBHOOK_BASE_URL", null, "https", "http")
            ?? throw new InvalidSettingException("WEBHOOK_BASE_URL", "is required (the public https URL Telnyx reaches this service on)");

        byte[]? publicKey = null;
        if (settings.Optional("TELNYX_PUBLIC_KEY") is { } key)
        {
            try
            {
                publicKey = Convert.FromBase64String(key);
            }
            catch (FormatException)
            {
            }

            if (publicKey is not { Length: 32 })
            {
                throw new InvalidSettingException("TELNYX_PUBLIC_KEY", "must be the base64 of a 32-byte Ed25519 public key");
            }
        }

        var verify = settings.Bool("TELNYX_WEBHOOK_VERIFY", true);
        return new TelnyxOptions(
            apiKey,
            connectionId,
            phone,
            settings.Url("TELNYX_API_BASE_URL", DefaultApiBaseUrl, "https", "http")!,
            webhookBase,
            publicKey,
            verify,
            settings.Bool("USE_MEDIA_STREAMS", true));
    }
}
