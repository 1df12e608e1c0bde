using System.Text;

namespace TelnyxAiService.Security;

/// <summary>
/// Text that came from outside (a caller id, a webhook field, a vendor's error) made safe for one log line: control
/// characters, line separators and unpaired surrogates are escaped as <c>\uXXXX</c>, so nobody can forge a log line,
/// and it is cut to a bounded length.
/// </summary>
public static class LogText
{
    public const int MaxLength = 200;

    public static string Escape(string? text)
    {
        if (text is null)
        {
            return "";
        }

        StringBuilder? escaped = null;
        var length = Math.Min(text.Length, MaxLength);
        for (var i = 0; i < length; i++)
        {
            var c = text[i];
            var pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            if (pair)
            {
                escaped?.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }

            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\u0085')
            {
                escaped ??= new StringBuilder(text, 0, i, length + 16);
                escaped.Append(@"\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                continue;
            }

            escaped?.Append(c);
        }

        var result = escaped?.ToString() ?? text[..length];
        return text.Length > MaxLength ? result + "…" : result;
    }
}
