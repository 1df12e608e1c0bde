using TelnyxAiService.Configuration;

namespace TelnyxAiService.Calls;

/// <summary>
/// Which numbers may be dialled: those under DIAL_ALLOWED_PREFIXES when it is set (E.164 prefixes such as
/// <c>+34,+1</c>), any otherwise; premium-rate and international premium ranges are refused unless an allowed prefix
/// names them at least as precisely (<c>+1900</c> allows US 900 numbers).
/// </summary>
public sealed class DestinationPolicy(IReadOnlyList<string> allowed)
{
    /// <summary>
    /// Premium-rate ranges, by country: NANP 900/976, UK 09 and 087, Spain 803/806/807/905, France 089, Germany
    /// 0900/0137, Italy 89, Australia 190; and the shared-cost international ranges (ITU-T E.164: 979 International
    /// Premium Rate Service, 881-883 global networks and satellite, 870 Inmarsat) that toll fraud targets.
    /// </summary>
    public static readonly IReadOnlyList<string> Premium =
    [
        "+1900", "+1976", "+449", "+4487", "+34803", "+34806", "+34807", "+34905", "+3389", "+49900", "+49137", "+3989",
        "+6119", "+979", "+881", "+882", "+883", "+870",
    ];

    public IReadOnlyList<string> Allowed { get; } = allowed;

    public static DestinationPolicy Read(SettingsReader settings)
    {
        var prefixes = (settings.Optional("DIAL_ALLOWED_PREFIXES") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var prefix in prefixes)
        {
            if (prefix.Length is < 2 or > 16 || prefix[0] != '+' || prefix[1] == '0' || prefix.AsSpan(1).ContainsAnyExceptInRange('0', '9'))
            {
                throw new InvalidSettingException("DIAL_ALLOWED_PREFIXES", $"must be E.164 prefixes separated by commas, e.g. +34,+1; got '{prefix}'");
            }
        }

        return new DestinationPolicy(prefixes);
    }

    /// <summary>Why <paramref name="phone"/> (E.164) may not be dialled, or null when it may.</summary>
    public string? Refusal(string phone)
    {
        var allowedBy = Longest(Allowed, phone);
        if (Allowed.Count > 0 && allowedBy is null)
        {
            return $"{phone} is outside the allowed destinations (DIAL_ALLOWED_PREFIXES: {string.Join(",", Allowed)})";
        }

        return Longest(Premium, phone) is { } premium && (allowedBy?.Length ?? 0) < premium.Length
            ? $"{phone} is a premium-rate number ({premium}); add the prefix to DIAL_ALLOWED_PREFIXES to allow it"
            : null;
    }

    private static string? Longest(IReadOnlyList<string> prefixes, string phone) =>
        prefixes.Where(p => phone.StartsWith(p, StringComparison.Ordinal)).MaxBy(p => p.Length);
}
