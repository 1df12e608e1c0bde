using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Console;
using TelnyxAiService.Calls;
using TelnyxAiService.Conversation;
using TelnyxAiService.Emulators.Audio;
using TelnyxAiService.Emulators.Hosting;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Demo;

/// <param name="WavPath">Where to write the call's audio; null: a file under the temporary directory.</param>
internal sealed record DemoOptions(string PersonaPath, string? WavPath = null);

/// <summary>One caller turn as the service heard it and the agent's answer (with its latency when it was measured).</summary>
internal sealed record DemoExchange(string Heard, string Reply, bool ReplyInterrupted, TurnTimings? Latency);

internal sealed record DemoResult(int ExitCode, IReadOnlyList<ChatMessage> History, IReadOnlyList<DemoExchange> Exchanges, int BargeIns, WordAccuracy? Accuracy, string? WavPath);

/// <summary>
/// One simulated outbound call through the real service with no keys: the Telnyx emulator dials a persona whose lines
/// festival speaks into the media stream (L16 16 kHz); the service hears them with pocketsphinx, answers with the
/// rules agent (Claude when ANTHROPIC_API_KEY is set) and speaks with flite. Prints the live transcript, each turn's
/// latency, then a summary: the recogniser's word accuracy, a stereo WAV of the call, and the stored call record.
/// </summary>
internal static class DemoRun
{
    private const string CalleeNumber = "+15550100001";
    private static readonly TimeSpan CallLimit = TimeSpan.FromMinutes(3);

    public static async Task<DemoResult> RunAsync(DemoOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        Persona persona;
        PersonaVoice voice;
        try
        {
            persona = Persona.Load(options.PersonaPath);
            output.WriteLine($"Demo: a simulated outbound call through the service, persona {Path.GetFileName(options.PersonaPath)} ({persona.Lines.Count} lines).");
            output.WriteLine("The callee's lines are spoken by festival and streamed in real time as Telnyx media (L16 16 kHz).");
            voice = await PersonaVoice.SynthesizeAsync(persona, cancellationToken);
        }
        catch (Exception e) when (e is InvalidPersonaException or ProviderException)
        {
            output.WriteLine($"error: {e.Message}");
            return new DemoResult(2, [], [], 0, null, null);
        }

        var callee = new EmulatedCallee([.. persona.Lines.Select(l => l.Text)], call => voice.ScriptFor(StreamFormat(call)));
        await using var emulators = await EmulatorSet.StartAsync(new EmulatorKnobs(), callee, vendors: false, cancellationToken);
        var port = FreePort();
        var database = Path.Combine(Path.GetTempPath(), "telnyx-ai-demo", "calls.db");
        Directory.CreateDirectory(Path.GetDirectoryName(database)!);
        List<KeyValuePair<string, string>> settings =
        [
            .. emulators.Environment(new Uri($"http://127.0.0.1:{port}")),
            new("URLS", $"http://127.0.0.1:{port}"),
            new("USE_MEDIA_STREAMS", "true"),
            new("AGENT_LANGUAGE", "en"),
            new("DEEPGRAM_API_KEY", ""),
            new("ELEVENLABS_API_KEY", ""),
            new("API_KEY", ""),
            new("DATABASE_URL", $"sqlite:{database}"),
        ];
        var turns = new TurnLog();
        output.WriteLine("Starting the service in this process:");
        var (service, exitCode) = await InProcessService.StartAsync(
            settings,
            host => host.ConfigureLogging(logging => logging
                .AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning)
                .AddFilter<TurnLog>(TurnLog.Category, LogLevel.Information)
                .AddProvider(turns)),
            cancellationToken);
        if (service is null)
        {
            output.WriteLine($"error: the service did not start (exit code {exitCode})");
            return new DemoResult(exitCode, [], [], 0, null, null);
        }

        await using (service)
        {
            return await CallAsync(new Uri($"http://127.0.0.1:{port}"), service, emulators, voice, turns, options, output, cancellationToken);
        }
    }

    private static async Task<DemoResult> CallAsync(Uri serviceUrl, InProcessService service, EmulatorSet emulators, PersonaVoice voice, TurnLog turns, DemoOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var persona = voice.Persona;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(CallLimit);
        using var http = new HttpClient { BaseAddress = serviceUrl };
        var response = await http.PostAsJsonAsync(
            "/api/call/initiate",
            new CallRequestBody(Phone: CalleeNumber, Name: persona.Name, Context: persona.Context, Greeting: persona.Greeting),
            CallsJson.Default.CallRequestBody,
            limit.Token);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            output.WriteLine($"error: POST /api/call/initiate answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(limit.Token)}");
            return new DemoResult(1, [], [], 0, null, null);
        }

        var (callId, callControlId, _) = (await response.Content.ReadFromJsonAsync(CallsJson.Default.CallPlaced, limit.Token))!;
        var session = service.Services.GetRequiredService<SessionRegistry>().Find(callId, null);
        if (session is null)
        {
            output.WriteLine("error: the call ended before it could be followed");
            return new DemoResult(1, [], [], 0, null, null);
        }

        output.WriteLine();
        output.WriteLine($"Calling {persona.Name} through the Telnyx emulator (POST /api/call/initiate → call {callId}).");
        output.WriteLine();
        var clock = Stopwatch.StartNew();
        var exchanges = await FollowAsync(session, persona, turns, output, limit.Token);
        var reason = session.Ended.IsCompleted ? await session.Ended : (CallEndReason?)null;
        output.WriteLine();
        output.WriteLine(reason is { } ended ? $"Call ended: {ended} after {clock.Elapsed.TotalSeconds:0.0} s." : $"The call did not end within {CallLimit.TotalMinutes:0} minutes.");

        var history = session.History();
        var accuracy = WordAccuracy.Score([.. persona.Lines.Select(l => l.Text)], string.Join(' ', history.Where(m => m.Speaker == Speaker.Caller).Select(m => m.Text)));
        string? wavPath = null;
        try
        {
            var recording = await emulators.Callee!.WaitForRecordingAsync(callControlId, TimeSpan.FromSeconds(30), limit.Token);
            wavPath = options.WavPath ?? Path.Combine(Path.GetTempPath(), "telnyx-ai-demo", $"call-{callId}.wav");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(wavPath))!);
            await File.WriteAllBytesAsync(wavPath, CallWav.Create(recording, voice.Audio), limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            output.WriteLine("The callee's recording did not finish: no WAV was written.");
        }

        Summarize(persona, exchanges, accuracy, wavPath, output);
        await PrintStoredCallAsync(service, callId, output, cancellationToken);
        var exitCode = reason is null || exchanges.Count == 0 ? 1 : 0;
        return new DemoResult(exitCode, history, exchanges, turns.BargeIns, accuracy, wavPath);
    }

    /// <summary>Prints the conversation as the service records it, until the call ends.</summary>
    private static async Task<IReadOnlyList<DemoExchange>> FollowAsync(CallSession session, Persona persona, TurnLog turns, TextWriter output, CancellationToken cancellationToken)
    {
        var exchanges = new List<DemoExchange>();
        var printed = 0;
        var bargeIns = 0;
        string? heard = null;
        while (true)
        {
            var done = session.Ended.IsCompleted;
            for (; bargeIns < turns.BargeIns; bargeIns++)
            {
                output.WriteLine("  ✂ the callee barged in: the agent stopped talking and dropped its queued audio");
                output.WriteLine();
            }

            var history = session.History();
            for (; printed < history.Count; printed++)
            {
                var message = history[printed];
                if (message.Speaker == Speaker.Caller)
                {
                    var said = exchanges.Count < persona.Lines.Count ? persona.Lines[exchanges.Count] : null;
                    if (said is not null)
                    {
                        output.WriteLine($"  callee says     \"{said.Text}\"{(said.BargeInAfter is { } after ? $"  (interrupting the agent after {after.TotalSeconds:0.#} s)" : "")}");
                    }

                    output.WriteLine($"  service heard   \"{message.Text}\"");
                    heard = message.Text;
                    continue;
                }

                output.WriteLine($"  agent           \"{message.Text}\"{(message.Interrupted ? "  ✂ (cut off here)" : "")}");
                if (heard is not null)
                {
                    var latency = turns.TryTake();
                    exchanges.Add(new DemoExchange(heard, message.Text, message.Interrupted, latency));
                    output.WriteLine($"                  latency: {latency?.ToString() ?? "not measured"}");
                    heard = null;
                }

                output.WriteLine();
            }

            if (done)
            {
                return exchanges;
            }

            try
            {
                await Task.WhenAny(session.Ended, Task.Delay(100, cancellationToken)).WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return exchanges;
            }
        }
    }

    private static void Summarize(Persona persona, IReadOnlyList<DemoExchange> exchanges, WordAccuracy accuracy, string? wavPath, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"{"#",-3}{"the service heard",-46}{"the agent answered",-50}{"voice-to-voice",14}");
        var index = 0;
        foreach (var exchange in exchanges)
        {
            var voice = exchange.Latency?.FirstAgentFrame is { } v ? $"{v.TotalMilliseconds:0} ms" : "-";
            output.WriteLine($"{++index,-3}{Clip(exchange.Heard, 44),-46}{Clip((exchange.ReplyInterrupted ? "✂ " : "") + exchange.Reply, 48),-50}{voice,14}");
        }

        var measured = exchanges.Select(e => e.Latency?.FirstAgentFrame).OfType<TimeSpan>().Order().ToList();
        output.WriteLine();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Word accuracy: {accuracy.Accuracy:P1} of the callee's {accuracy.Words} words ({accuracy.Correct} right, {accuracy.Substitutions} wrong, {accuracy.Deletions} missed, {accuracy.Insertions} extra)."));
        foreach (var (line, heard) in persona.Lines.Zip(accuracy.HeardPerLine))
        {
            output.WriteLine($"    said \"{line.Text}\"  heard \"{heard}\"");
        }

        if (measured.Count > 0)
        {
            output.WriteLine($"Voice-to-voice latency (the callee's last word to the agent's first audio): median {measured[measured.Count / 2].TotalMilliseconds:0} ms, max {measured[^1].TotalMilliseconds:0} ms over {measured.Count} turns.");
        }

        output.WriteLine(wavPath is null ? "Recording: none." : $"Recording: {wavPath} (stereo WAV, 16 kHz: the callee on the left channel, the agent on the right).");
    }

    /// <summary>The call as the service stored it, when storage is part of the service's call flow.</summary>
    private static async Task PrintStoredCallAsync(InProcessService service, string callId, TextWriter output, CancellationToken cancellationToken)
    {
        if (service.Services.GetService<Storage.ICallStore>() is not { } store)
        {
            output.WriteLine("Call record: none; this build of the service does not store calls (Storage/ is not wired into the call flow yet).");
            return;
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        var record = await store.GetCallAsync(callId, cancellationToken);
        while (record is { EndedAt: null } && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken);
            record = await store.GetCallAsync(callId, cancellationToken);
        }

        if (record is null)
        {
            output.WriteLine($"Call record: call {callId} was not found in the store.");
            return;
        }

        var stored = await service.Services.GetRequiredService<Storage.ITurnStore>().GetTurnsAsync(callId, cancellationToken);
        output.WriteLine($"Call record: {record.Id} status={record.Status} end_reason={record.EndReason ?? "-"} hangup_cause={record.HangupCause ?? "-"} answered={record.AnsweredAt:HH:mm:ss} ended={record.EndedAt:HH:mm:ss}, {stored.Count} turns stored.");
    }

    private static EmulatedAudioFormat StreamFormat(EmulatedCall call) =>
        new(call.StreamBidirectionalCodec ?? call.StreamCodec ?? "PCMU", call.StreamSampleRate);

    private static string Clip(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
