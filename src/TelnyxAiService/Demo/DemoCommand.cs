namespace TelnyxAiService.Demo;

/// <summary><c>telnyx-ai-service demo [--persona FILE] [--wav FILE]</c>: one simulated call, see <see cref="DemoRun"/>.</summary>
internal static class DemoCommand
{
    public const string Usage = """
        usage: telnyx-ai-service demo [--persona FILE] [--wav FILE]
          --persona FILE  the callee's script (JSON, see personas/); default: personas/clinic-booking.json
          --wav FILE      where to write the call's audio (stereo: callee left, agent right); default: a temporary file
        Runs a whole simulated outbound call through the service with no keys: pocketsphinx listens, the rules agent
        answers (Claude when ANTHROPIC_API_KEY is set) and flite speaks. Needs the Debian packages of scripts/setup.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var persona = Persona.DefaultPath;
        string? wav = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--persona" when i + 1 < args.Length:
                    persona = args[++i];
                    break;
                case "--wav" when i + 1 < args.Length:
                    wav = args[++i];
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"demo: unexpected argument '{args[i]}'");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            var result = await DemoRun.RunAsync(new DemoOptions(persona, wav), Console.Out, stop.Token);
            return result.ExitCode;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 130;
        }
    }
}
