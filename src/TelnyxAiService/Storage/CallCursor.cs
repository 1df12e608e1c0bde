using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace TelnyxAiService.Storage;

/// <summary>
/// The opaque keyset cursor of <see cref="ICallStore.ListCallsAsync"/> and <see cref="IBatchStore.ListBatchesAsync"/>: the
/// last row's (created_at, id), base64url.
/// </summary>
internal static class CallCursor
{
    public static string Format(long createdAt, string id) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{createdAt.ToString(CultureInfo.InvariantCulture)}:{id}"));

    public static (long CreatedAt, string Id) Parse(string cursor)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw new InvalidCursorException("The cursor is not valid.");
        }

        var parts = text.Split(':', 2);
        if (parts.Length != 2 || parts[1].Length == 0
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var createdAt))
        {
            throw new InvalidCursorException("The cursor is not valid.");
        }

        return (createdAt, parts[1]);
    }
}
