namespace TelnyxAiService.Providers;

/// <summary>How a capability is served: by the vendor, by an emulator of the vendor, or by an offline engine.</summary>
public enum ProviderMode
{
    Vendor,
    Emulator,
    Offline,

    /// <summary>Not configured: the capability is unavailable (telephony without TELNYX_API_KEY).</summary>
    Off,
}

/// <summary>One line of /api/health: which provider serves a capability and how.</summary>
public sealed record ProviderInfo(string Capability, string Provider, ProviderMode Mode, Uri? BaseUrl);
