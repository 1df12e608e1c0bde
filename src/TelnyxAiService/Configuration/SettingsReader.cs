using System.Globalization;

namespace TelnyxAiService.Configuration;

/// <summary>A setting that is missing or malformed. The message is one line that names the variable.</summary>
public sealed class InvalidSettingException(string name, string problem) : Exception($"{name}: {problem}")
{
    public string Name { get; } = name;
}

/// <summary>Reads flat environment-style settings (TELNYX_API_KEY, PORT, …) and validates them as it goes.</summary>
public sealed class SettingsReader(IConfiguration configuration)
{
    public string? Optional(string name)
    {
        var value = configuration[name];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public string Text(string name, string fallback) => Optional(name) ?? fallback;

    public int Int(string name, int fallback, int min, int max)
    {
        var raw = Optional(name);
        if (raw is null)
        {
            return fallback;
        }

        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new InvalidSettingException(name, $"must be a whole number from {min} to {max}, got '{raw}'");
        }

        return value;
    }

    public double Double(string name, double fallback, double min, double max)
    {
        var raw = Optional(name);
        if (raw is null)
        {
            return fallback;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new InvalidSettingException(name, $"must be a number from {min} to {max}, got '{raw}'");
        }

        return value;
    }

    public bool Bool(string name, bool fallback)
    {
        var raw = Optional(name);
        return raw?.ToLowerInvariant() switch
        {
            null => fallback,
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => throw new InvalidSettingException(name, $"must be true or false, got '{raw}'"),
        };
    }

    /// <summary>
    /// AGENT_LANGUAGE, a language tag such as es, en or es-419. Default es, except when the caller would be heard by
    /// the offline recogniser (media streams without DEEPGRAM_API_KEY), which only understands English: then en.
    /// </summary>
    public string AgentLanguage()
    {
        var offlineEars = Optional("DEEPGRAM_API_KEY") is null && Bool("USE_MEDIA_STREAMS", true);
        var language = Text("AGENT_LANGUAGE", offlineEars ? "en" : "es").ToLowerInvariant();
        var parts = language.Split('-');
        if (parts[0].Length is < 2 or > 3 || !parts.All(p => p.Length is > 0 and <= 8 && p.All(char.IsAsciiLetterOrDigit)))
        {
            throw new InvalidSettingException("AGENT_LANGUAGE", $"must be a language tag such as es, en or es-419, got '{language}'");
        }

        return language;
    }

    /// <summary>TRANSFER_NUMBER, where the agent may transfer the caller (E.164); null: no transfer is offered.</summary>
    public string? TransferNumber()
    {
        var transfer = Optional("TRANSFER_NUMBER");
        if (transfer is not null && !Telephony.PhoneNumber.IsE164(transfer))
        {
            throw new InvalidSettingException("TRANSFER_NUMBER", $"must be E.164 ('+' and 8 to 15 digits), got '{transfer}'");
        }

        return transfer;
    }

    /// <summary>MAX_CALL_SECONDS (default 900): the longest a call may last before the agent says goodbye.</summary>
    public TimeSpan MaxCallDuration() => TimeSpan.FromSeconds(Int("MAX_CALL_SECONDS", 900, 10, 14400));

    /// <summary>An absolute URL whose scheme is one of <paramref name="schemes"/>; a trailing slash is removed.</summary>
    public Uri? Url(string name, string? fallback, params string[] schemes)
    {
        var raw = Optional(name) ?? fallback;
        if (raw is null)
        {
            return null;
        }

        if (!Uri.TryCreate(raw.TrimEnd('/'), UriKind.Absolute, out var url) || !schemes.Contains(url.Scheme))
        {
            throw new InvalidSettingException(name, $"must be an absolute {string.Join(" or ", schemes)} URL, got '{raw}'");
        }

        return url;
    }
}
