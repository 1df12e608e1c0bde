using System.Runtime.InteropServices;
using System.Text.Json;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Hosting;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Demo;

/// <summary>
/// <c>telnyx-ai-service emulate</c>: the Telnyx, Deepgram, Anthropic and ElevenLabs emulators on local ports until
/// Ctrl-C, printing the <c>export</c> lines that point the service (or anyone's code) at them. Dialled numbers answer
/// as the persona: its lines are Telnyx transcriptions (Call Control), Deepgram transcripts, and festival speech on
/// media streams.
/// </summary>
internal static class EmulateCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var knobs = new EmulatorKnobs();
        var personaPath = Persona.DefaultPath;
        var serviceUrl = new Uri("http://127.0.0.1:3000");
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                var flag = args[i];
                if (flag is "-h" or "--help")
                {
                    PrintUsage();
                    return 0;
                }

                if (!flag.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                {
                    throw new InvalidKnobException($"expected --NAME VALUE, got '{flag}'");
                }

                var value = args[++i];
                switch (flag[2..])
                {
                    case "config":
                        knobs.Apply(await File.ReadAllTextAsync(value));
                        break;
                    case "persona":
                        personaPath = value;
                        break;
                    case "service-url":
                        serviceUrl = Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                            ? url
                            : throw new InvalidKnobException($"service-url must be an http(s) URL, got '{value}'");
                        break;
                    default:
                        knobs.Set(flag[2..], value);
                        break;
                }
            }
        }
        catch (Exception e) when (e is InvalidKnobException or JsonException or IOException)
        {
            Console.Error.WriteLine($"emulate: {e.Message}");
            return 2;
        }

        PersonaVoice voice;
        try
        {
            voice = await PersonaVoice.SynthesizeAsync(Persona.Load(personaPath), CancellationToken.None);
        }
        catch (Exception e) when (e is InvalidPersonaException or ProviderException)
        {
            Console.Error.WriteLine($"emulate: {e.Message}");
            return 2;
        }

        var callee = new EmulatedCallee(
            [.. voice.Persona.Lines.Select(l => l.Text)],
            call => voice.ScriptFor(new EmulatedAudioFormat(call.StreamBidirectionalCodec ?? call.StreamCodec ?? "PCMU", call.StreamSampleRate)));
        await using var emulators = await EmulatorSet.StartAsync(knobs, callee, vendors: true, CancellationToken.None);
        Console.WriteLine("# Telnyx, Deepgram, Anthropic and ElevenLabs emulators are running until Ctrl-C. Point the service at them:");
        foreach (var (name, value) in emulators.Environment(serviceUrl))
        {
            Console.WriteLine($"export {name}={value}");
        }

        Console.WriteLine("# (these lines also work as a .env file). To hear calls with the offline engines instead of the");
        Console.WriteLine("# Deepgram, Anthropic and ElevenLabs emulators: unset DEEPGRAM_API_KEY ANTHROPIC_API_KEY ELEVENLABS_API_KEY");

        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        await stopped.Task;
        Console.Error.WriteLine($"emulate: stopping; {emulators.Telnyx.Calls.Count} calls were placed.");
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopped.TrySetResult();
        }
    }

    private static void PrintUsage()
    {
        Console.WriteLine("usage: telnyx-ai-service emulate [--config FILE] [--persona FILE] [--service-url URL] [--KNOB VALUE ...]");
        Console.WriteLine("  --config FILE      a JSON object of knobs, e.g. {\"anthropic-ttft-ms\": 400}; later flags override it");
        Console.WriteLine("  --persona FILE     how dialled numbers answer (default personas/clinic-booking.json)");
        Console.WriteLine("  --service-url URL  where the service listens, printed as WEBHOOK_BASE_URL (default http://127.0.0.1:3000)");
        Console.WriteLine("knobs:");
        foreach (var knob in EmulatorKnobs.All)
        {
            Console.WriteLine($"  --{knob.Name,-34} {knob.Description}");
        }
    }
}
