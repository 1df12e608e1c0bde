using System.Globalization;
using Microsoft.AspNetCore.Http;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.Deepgram;

/// <summary>The /v1/listen query parameters the emulator honours.</summary>
internal sealed record ListenSettings(
    EmulatedAudioFormat Format,
    string Model,
    int? EndpointingMs,
    int? UtteranceEndMs,
    bool InterimResults,
    bool VadEvents,
    bool Punctuate,
    bool Diarize)
{
    /// <summary>Deepgram's endpointing when the parameter is absent.</summary>
    private const int DefaultEndpointingMs = 10;

    public static bool TryParse(IQueryCollection query, out ListenSettings settings, out string error)
    {
        settings = null!;
        var encoding = query["encoding"].ToString() switch
        {
            "mulaw" => "PCMU",
            "alaw" => "PCMA",
            "linear16" => "L16",
            _ => null,
        };
        if (encoding is null)
        {
            error = "encoding must be mulaw, alaw or linear16 for raw audio";
            return false;
        }

        if (!int.TryParse(query["sample_rate"], NumberStyles.None, CultureInfo.InvariantCulture, out var sampleRate) || sampleRate is < 8000 or > 48000)
        {
            error = "sample_rate is required for raw audio and must be from 8000 to 48000";
            return false;
        }

        if (query.TryGetValue("channels", out var channels) && channels != "1")
        {
            error = "the emulator supports channels=1 only";
            return false;
        }

        int? endpointing = DefaultEndpointingMs;
        if (query.TryGetValue("endpointing", out var rawEndpointing))
        {
            endpointing = rawEndpointing == "false" ? null : Milliseconds(rawEndpointing);
            if (rawEndpointing != "false" && endpointing is null)
            {
                error = "endpointing must be a number of milliseconds or false";
                return false;
            }
        }

        int? utteranceEnd = null;
        if (query.TryGetValue("utterance_end_ms", out var rawUtteranceEnd) && (utteranceEnd = Milliseconds(rawUtteranceEnd)) is null)
        {
            error = "utterance_end_ms must be a number of milliseconds";
            return false;
        }

        settings = new ListenSettings(
            new EmulatedAudioFormat(encoding, sampleRate),
            query.TryGetValue("model", out var model) ? model.ToString() : "nova-3",
            endpointing,
            utteranceEnd,
            IsTrue(query, "interim_results"),
            IsTrue(query, "vad_events"),
            IsTrue(query, "punctuate") || IsTrue(query, "smart_format"),
            IsTrue(query, "diarize"));
        error = "";
        return true;
    }

    private static int? Milliseconds(string? raw) =>
        int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static bool IsTrue(IQueryCollection query, string name) => query[name] == "true";
}
