using System.Globalization;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Calls;

/// <summary>
/// How batches retry and when they may call. Their pace is <see cref="CallsOptions"/>' MAX_CONCURRENT_CALLS and
/// CALLS_PER_SECOND, per instance.
/// </summary>
/// <param name="MaxAttempts">BATCH_MAX_ATTEMPTS (default 3): dials per number, counting the first.</param>
/// <param name="RetryBackoff">BATCH_RETRY_BACKOFF_SECONDS (default 300): the first retry's delay; each later one doubles.</param>
/// <param name="Window">BATCH_WINDOW (e.g. 09:00-18:00) in BATCH_TIMEZONE (IANA, default UTC); null: any time.</param>
public sealed record BatchOptions(int MaxAttempts, TimeSpan RetryBackoff, CallingWindow? Window)
{
    public static BatchOptions Read(SettingsReader settings) => new(
        settings.Int("BATCH_MAX_ATTEMPTS", 3, 1, 20),
        TimeSpan.FromSeconds(settings.Double("BATCH_RETRY_BACKOFF_SECONDS", 300, 0, 7 * 86400)),
        settings.Optional("BATCH_WINDOW") is { } window ? CallingWindow.Parse(window, settings.Text("BATCH_TIMEZONE", "UTC")) : null);

    /// <summary>When the attempt that just ended (the <paramref name="attempts"/>th) is retried.</summary>
    public TimeSpan RetryDelay(int attempts) => RetryBackoff * Math.Pow(2, Math.Max(0, attempts - 1));
}

/// <summary>The local hours in which a batch may dial; a window whose end is before its start spans midnight.</summary>
public sealed record CallingWindow(TimeOnly Start, TimeOnly End, TimeZoneInfo Zone)
{
    /// <exception cref="InvalidSettingException">The window is not HH:mm-HH:mm or the zone is unknown.</exception>
    public static CallingWindow Parse(string window, string zone)
    {
        var parts = window.Split('-', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !TimeOnly.TryParseExact(parts[0], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            || !TimeOnly.TryParseExact(parts[1], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var end)
            || start == end)
        {
            throw new InvalidSettingException("BATCH_WINDOW", $"must be HH:mm-HH:mm with two different times, e.g. 09:00-18:00, got '{window}'");
        }

        try
        {
            return new CallingWindow(start, end, TimeZoneInfo.FindSystemTimeZoneById(zone));
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new InvalidSettingException("BATCH_TIMEZONE", $"must be an IANA time zone such as Europe/Madrid, got '{zone}'");
        }
    }

    public bool Contains(DateTimeOffset instant)
    {
        var local = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, Zone).DateTime);
        return Start < End ? local >= Start && local < End : local >= Start || local < End;
    }
}
