namespace TelnyxAiService.Providers;

/// <summary>
/// The one error type for every external provider (Telnyx, Deepgram, Anthropic, ElevenLabs, offline engines).
/// <see cref="Retryable"/> says whether trying again could succeed.
/// </summary>
public class ProviderException(string provider, string message, bool retryable, Exception? inner = null)
    : Exception($"{provider}: {message}", inner)
{
    public string Provider { get; } = provider;

    public bool Retryable { get; } = retryable;
}
