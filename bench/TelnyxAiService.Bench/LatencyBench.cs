using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Bench;

/// <summary>
/// Voice to voice through the real service: simulated callers on the Telnyx media stream, each saying short lines and
/// waiting for the answer. Latency is measured on the caller's own clock: the send time of a line's last speech frame
/// to the arrival of the first agent frame after it.
/// </summary>
internal static partial class LatencyBench
{
    public const string Greeting = "Hello Ana, this is the clinic.";

    /// <summary>Short lines, so that the original design's "3 words" interim arrives near the end of speech, not mid-sentence.</summary>
    public static readonly string[] Lines = ["Monday at ten works", "Can you book me then", "Thanks that is all"];

    public const string Reply = "Monday at ten works well for us. See you then.";

    public static async Task<string> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var report = new StringBuilder();
        var firstChunkTokens = FirstChunkTokens(Reply);
        var vendorMs = options.Delays.VendorMs(firstChunkTokens);
        report.AppendLine("## 1. Voice-to-voice latency (media stream, through the real service)").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Emulator delays: {options.Delays.Describe()}.").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Caller lines: {string.Join(" / ", Lines.Select(l => $"\"{l}\""))}; Claude reply: \"{Reply}\" (first chunk = {firstChunkTokens} streamed tokens).");
        report.AppendLine(CultureInfo.InvariantCulture, $"**Sum of the vendors' delays** (endpointing + FinalDelay + TTFT + (tokens of the first chunk - 1)/rate + TTS TTFB) = **{Fmt.Ms(vendorMs)} ms**; server-added = measured - that sum.");
        report.AppendLine("Each service process gets one warm-up call first (not counted). Calls start spread over up to 5 s; each caller waits for the greeting, says 3 lines and waits for each answer.").AppendLine();
        report.AppendLine("| build | service settings | calls | turns | p50 ms | p95 ms | p99 ms | server-added p50 / p95 / p99 ms | p50 / (sum of delays) | service log p50: decided / token / sentence / tts / voice ms | svc CPU s | loadavg |");
        report.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        const string Defaults = "defaults (SPECULATIVE_REPLY_MS=250, TURN_HOLD_MS=600)";

        // The JIT build with and without speculation (a setting), then the other builds with the defaults.
        var modes = new List<(Build Build, string Name, Dictionary<string, string> Settings)>
        {
            (options.Builds[0], Defaults, []),
            (options.Builds[0], "no speculation (SPECULATIVE_REPLY_MS=0, TURN_HOLD_MS=600)", new() { ["SPECULATIVE_REPLY_MS"] = "0" }),
        };
        modes.AddRange(options.Builds.Skip(1).Select(b => (b, Defaults, new Dictionary<string, string>())));
        var baseline = new Dictionary<(string Build, int Calls), double>();
        var ratios = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (build, name, settings) in modes)
        {
            foreach (var calls in options.LatencyCalls)
            {
                var level = await RunLevelAsync(options, build, calls, settings, cancellationToken);
                var server = new Percentiles(level.Latencies.Select(l => l - vendorMs));
                var lat = new Percentiles(level.Latencies);
                report.AppendLine(CultureInfo.InvariantCulture, $"| {build.Name} | {name} | {calls} | {lat.Count}/{level.TurnsExpected} | {Fmt.Ms(lat[50])} | {Fmt.Ms(lat[95])} | {Fmt.Ms(lat[99])} | {Fmt.Ms(server[50])} / {Fmt.Ms(server[95])} / {Fmt.Ms(server[99])} | {Fmt.Num(lat[50] / vendorMs, "0.00")} | {level.Stages} | {Fmt.Num(level.ServiceCpu.TotalSeconds, "0.0")} | {level.Load} |");
                Console.WriteLine($"latency {build.Name} {name} calls={calls}: p50={lat[50]:0} p95={lat[95]:0} p99={lat[99]:0} n={lat.Count}");
                if (settings.Count == 0)
                {
                    baseline[(build.Name, calls)] = lat[50];
                    (ratios.TryGetValue(build.Name, out var list) ? list : ratios[build.Name] = []).Add(Fmt.Num(lat[50] / vendorMs, "0.00"));
                }

                foreach (var error in level.Errors.Take(3))
                {
                    Console.WriteLine($"  service: {error}");
                }
            }
        }

        report.AppendLine();
        report.AppendLine("The service log columns are the service's own per-turn clock (TurnTimings), from the last speech frame its voice detector saw; \"voice\" is the first agent frame it sent.");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Issue 13 goal, voice-to-voice ratio unchanged (p50 / sum of delays at {string.Join(" / ", options.LatencyCalls)} calls, defaults): {string.Join("; ", ratios.Select(r => $"{r.Key} {string.Join(" / ", r.Value)}"))}.");
        report.AppendLine();
        LastDefaultsP50 = baseline;
        return report.ToString();
    }

    /// <summary>p50 voice-to-voice with default settings, by build and call count, for the baseline's ratio.</summary>
    public static IReadOnlyDictionary<(string Build, int Calls), double> LastDefaultsP50 { get; private set; } = new Dictionary<(string Build, int Calls), double>();

    public static int FirstChunkTokens(string reply)
    {
        var tokens = AnthropicEmulator.Tokenize(reply);
        var text = new StringBuilder();
        for (var i = 0; i < tokens.Count; i++)
        {
            text.Append(tokens[i]);
            if (ChunkEnd().IsMatch(text.ToString()))
            {
                return i + 1;
            }
        }

        return tokens.Count;
    }

    /// <summary>A caller who waits for the greeting, then says each line and waits for its answer.</summary>
    public static CallerScript Script(IEnumerable<string> lines)
    {
        var timeout = TimeSpan.FromSeconds(90);
        var script = new CallerScript().WaitForAgentToFinish(timeout: timeout);
        foreach (var line in lines)
        {
            script.Say(line).WaitForAgentToFinish(timeout: timeout);
        }

        return script.HangUp();
    }

    private static async Task<LevelResult> RunLevelAsync(BenchOptions options, Build build, int calls, Dictionary<string, string> extra, CancellationToken cancellationToken)
    {
        await using var env = await BenchEnvironment.StartAsync(options.Delays, Lines, Reply, _ => Script(Lines), callee: null, cancellationToken);
        var port = ServiceProcess.FreePort();
        var settings = env.ServiceSettings(port, mediaStreams: true, options.Delays.EndpointingMs);
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        await using var service = await ServiceProcess.StartAsync(build.Path, port, settings, cancellationToken);
        using var http = new HttpClient { BaseAddress = service.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        await CallAsync(env, http, 0, cancellationToken);
        var warmupLines = service.TurnLines.Count;
        var cpuBefore = service.CpuTime();
        var spread = TimeSpan.FromMilliseconds(Math.Min(calls * 25, 5000));
        var recordings = await Task.WhenAll(Enumerable.Range(1, calls).Select(async i =>
        {
            await Task.Delay(spread * (i - 1) / calls, cancellationToken);
            return await CallAsync(env, http, i, cancellationToken);
        }));
        var cpu = service.CpuTime() - cpuBefore;
        var latencies = new List<double>();
        foreach (var recording in recordings)
        {
            foreach (var line in recording.CallerLines)
            {
                if (recording.FirstArrivalAfter(line.End) is { } first)
                {
                    latencies.Add((first.At - line.End).TotalMilliseconds);
                }
            }
        }

        return new LevelResult(latencies, calls * Lines.Length, Stages(service.TurnLines.Skip(warmupLines)), cpu, Machine.LoadAverage(), service.ErrorLines);
    }

    /// <summary>Places one call through the service and waits for the caller's recording of it.</summary>
    public static async Task<MediaCallRecording> CallAsync(BenchEnvironment env, HttpClient http, int index, CancellationToken cancellationToken)
    {
        var phone = "+3460" + (1000000 + index).ToString(CultureInfo.InvariantCulture);
        using var response = await http.PostAsJsonAsync("/api/call/initiate", new { telefono = phone, nombre = "Ana", saludo = Greeting }, cancellationToken);
        response.EnsureSuccessStatusCode();
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var id = created.GetProperty("call_control_id").GetString()!;
        return await env.Callee!.WaitForRecordingAsync(id, TimeSpan.FromMinutes(5), cancellationToken);
    }

    /// <summary>p50 of each stage of the service's per-turn log lines.</summary>
    private static string Stages(IEnumerable<string> lines)
    {
        var stages = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            foreach (Match match in StageValue().Matches(line))
            {
                var list = stages.TryGetValue(match.Groups[1].Value, out var found) ? found : stages[match.Groups[1].Value] = [];
                list.Add(double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
            }
        }

        string[] order = ["decided", "token", "sentence", "tts", "voice"];
        return string.Join(" / ", order.Select(s => stages.TryGetValue(s, out var v) ? Fmt.Ms(new Percentiles(v)[50]) : "-"));
    }

    [GeneratedRegex(@"[.!?;…]\s")]
    private static partial Regex ChunkEnd();

    [GeneratedRegex(@"(\w+)=(-?\d+)ms")]
    private static partial Regex StageValue();

    private sealed record LevelResult(List<double> Latencies, int TurnsExpected, string Stages, TimeSpan ServiceCpu, string Load, IReadOnlyCollection<string> Errors);
}
