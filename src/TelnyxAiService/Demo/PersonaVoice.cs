using TelnyxAiService.Audio;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Telnyx.Media;
using TelnyxAiService.Providers;
using TelnyxAiService.Voice.Flite;

namespace TelnyxAiService.Demo;

/// <summary>
/// A persona's lines spoken by festival (<c>text2wave</c>, 16 kHz), the local voice pocketsphinx recognises best, and
/// the caller script that plays them on an emulated media stream in the stream's own codec.
/// </summary>
internal sealed class PersonaVoice
{
    private PersonaVoice(Persona persona, IReadOnlyList<byte[]> audio)
    {
        Persona = persona;
        Audio = audio;
    }

    public Persona Persona { get; }

    /// <summary>Each line's audio, L16 16 kHz, in the persona's order.</summary>
    public IReadOnlyList<byte[]> Audio { get; }

    /// <exception cref="ProviderException">festival is missing or failed; the message names the package.</exception>
    public static async Task<PersonaVoice> SynthesizeAsync(Persona persona, CancellationToken cancellationToken)
    {
        var audio = new List<byte[]>();
        foreach (var line in persona.Lines)
        {
            audio.Add(await SpeakAsync(line.Text, cancellationToken));
        }

        return new PersonaVoice(persona, audio);
    }

    /// <summary>
    /// The callee's part: each line after the agent has finished (or, for a barge-in line, once the agent has been
    /// talking that long); then, after the agent's last words, hang up unless the agent already has.
    /// </summary>
    public CallerScript ScriptFor(EmulatedAudioFormat format)
    {
        var target = new AudioFormat(
            format.Encoding switch
            {
                "PCMU" => AudioEncoding.Pcmu,
                "PCMA" => AudioEncoding.Pcma,
                _ => AudioEncoding.L16,
            },
            format.SampleRate);
        var script = new CallerScript();
        var timeout = TimeSpan.FromSeconds(30);
        foreach (var (line, audio) in Persona.Lines.Zip(Audio))
        {
            if (line.BargeInAfter is { } after)
            {
                script.WaitForAgentSpeech(after, timeout);
            }
            else
            {
                script.WaitForAgentToFinish(timeout: timeout);
            }

            script.Say(line.Text, Transcode(audio, AudioFormat.L16At16k, target));
        }

        return script.WaitForAgentToFinish(timeout: timeout).HangUp();
    }

    /// <summary>Converts audio between stream formats, 100 ms at a time (one converter keeps the filter state across chunks).</summary>
    public static byte[] Transcode(byte[] audio, AudioFormat from, AudioFormat to)
    {
        if (from == to)
        {
            return audio;
        }

        var converter = new AudioConverter(from, to);
        var chunk = from.SampleRate / 10 * from.BytesPerSample;
        return [.. audio.Chunk(chunk).SelectMany(c => converter.Convert(c))];
    }

    private static async Task<byte[]> SpeakAsync(string text, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetTempPath(), $"persona-{Guid.NewGuid():N}.wav");
        try
        {
            using (var festival = EngineProcess.Start("text2wave", "festival", ["-o", path], pipeInput: true))
            {
                await festival.Input.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), cancellationToken);
                festival.Input.Close();
                await festival.Output.CopyToAsync(Stream.Null, cancellationToken);
                await festival.WaitAsync(cancellationToken);
            }

            var wav = WavReader.Read(await File.ReadAllBytesAsync(path, cancellationToken));
            return wav is { Channels: 1, SampleRate: 16000, BitsPerSample: 16 }
                ? wav.Data.ToArray()
                : throw new ProviderException("festival", "text2wave must make 16 kHz 16-bit mono audio: install the Debian package festvox-kallpc16k (scripts/setup)", retryable: false);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
