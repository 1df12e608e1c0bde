using TelnyxAiService.Configuration;

namespace TelnyxAiService.CallEvents;

/// <summary>
/// The end-of-call webhook. Off unless <c>CALL_EVENTS_URL</c> (an absolute http or https URL) is set; then every ended
/// call is POSTed there, signed with <c>CALL_EVENTS_SECRET</c> (required, at least <see cref="MinSecretLength"/> characters).
/// </summary>
public sealed record CallEventsOptions(Uri? Url, string Secret)
{
    public const int MinSecretLength = 16;

    public bool Enabled => Url is not null;

    public static CallEventsOptions Read(SettingsReader settings)
    {
        var raw = settings.Optional("CALL_EVENTS_URL");
        if (raw is null)
        {
            return new CallEventsOptions(null, "");
        }

        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new InvalidSettingException("CALL_EVENTS_URL", $"must be an absolute http or https URL, got '{raw}'");
        }

        var secret = settings.Optional("CALL_EVENTS_SECRET");
        if (secret is null || secret.Length < MinSecretLength)
        {
            throw new InvalidSettingException("CALL_EVENTS_SECRET", $"must be set, at least {MinSecretLength} characters, when CALL_EVENTS_URL is set");
        }

        return new CallEventsOptions(url, secret);
    }
}
