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

    /// <summary>
    /// What a call to <paramref name="provider"/> threw, as a provider failure: an unexpected exception becomes one that
    /// is not retryable. Null for our own cancellation through <paramref name="cancellationToken"/>, which is no failure.
    /// </summary>
    /// <remarks>Used as a catch filter: <c>catch (Exception e) when (ProviderException.Of(name, e, ct) is { } failure)</c>.</remarks>
    public static ProviderException? Of(string provider, Exception exception, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => null,
        ProviderException failure => failure,
        _ => new ProviderException(provider, $"unexpected {exception.GetType().Name}", retryable: false, exception),
    };
}
