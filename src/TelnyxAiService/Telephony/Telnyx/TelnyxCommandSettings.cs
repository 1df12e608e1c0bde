using TelnyxAiService.Configuration;

namespace TelnyxAiService.Telephony.Telnyx;

/// <summary>How Call Control commands are phrased: the speak voice and the transcription engine.</summary>
public sealed record TelnyxCommandSettings(string SpeakVoice, string TranscriptionEngine)
{
    public static TelnyxCommandSettings Read(SettingsReader settings) => new(
        settings.Text("TELNYX_SPEAK_VOICE", "female"),
        settings.Text("TELNYX_TRANSCRIPTION_ENGINE", "Telnyx"));
}
