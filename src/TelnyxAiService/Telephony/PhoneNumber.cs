namespace TelnyxAiService.Telephony;

public static class PhoneNumber
{
    /// <summary>'+' followed by 8 to 15 digits, the first not zero.</summary>
    public static bool IsE164(string value) =>
        value.Length is >= 9 and <= 16 && value[0] == '+' && value[1] != '0' && value.AsSpan(1).ContainsAnyExceptInRange('0', '9') is false;
}
