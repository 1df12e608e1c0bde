namespace TelnyxAiService.Tests.Telephony;

internal static class TelnyxFixtures
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "telnyx");

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Directory, name));
}
