using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Bench;

/// <summary>
/// Concurrent real-time media calls: every caller streams 50 PCMU frames/s in, and the agent streams a long reply
/// out for the whole measurement window. The load generator (this process: callers and vendor emulators) measures
/// the gaps between agent frames; the service's CPU and RSS are read from /proc.
/// </summary>
internal static class CapacityBench
{
    private const double CallsPerSecond = 100;

    public static async Task<string> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var report = new StringBuilder();
        report.AppendLine("## 3. Capacity: concurrent real-time media calls").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Each call: greeting, one caller line, then a long agent reply (one Claude answer of many sentences, streamed through TTS) while the caller keeps sending 20 ms PCMU frames (silence). Calls are placed through `POST /api/call/initiate` at {CallsPerSecond}/s; the window of {options.CapacitySeconds} s starts 8 s after the last call was placed. Emulator delays as in section 1.");
        report.AppendLine("Gap = time between consecutive agent `media` frames arriving at the caller (nominal 20 ms); jitter = |gap - 20 ms|. The service sends 20 ms frames paced to real time, so a jitter p99 of 20 ms means some frames arrive 40 ms apart (the playout limit the tests assert).").AppendLine();
        report.AppendLine("The service runs with its defaults (no `DOTNET_` settings). Service and load generator CPU are % of one core over the window; the machine has " + Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) + " cores, shared by both.").AppendLine();
        report.AppendLine("| build | calls | calls with audio in window | service CPU % (of 1 core) | service CPU % per call | service RSS idle -> window max MB | RSS per call KB | gap p50 / p99 / max ms | jitter p99 ms | gaps > 200 ms | load generator CPU % | loadavg |");
        report.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        var limits = new Dictionary<string, int>(StringComparer.Ordinal);
        var at500 = new Dictionary<string, LevelResult>(StringComparer.Ordinal);
        var notes = new List<string>();
        foreach (var calls in options.CapacityCalls)
        {
            foreach (var build in options.Builds)
            {
                var level = await RunLevelAsync(options, build, calls, cancellationToken);
                report.AppendLine(CultureInfo.InvariantCulture, $"| {build.Name} | {calls} | {level.CallsWithAudio} | {Fmt.Num(level.ServiceCpuPercent)} | {Fmt.Num(level.ServiceCpuPercent / calls, "0.00")} | {Fmt.Mb(level.IdleRss)} -> {Fmt.Mb(level.MaxRss)} | {Fmt.Num(level.PerCallKb)} | {Fmt.Ms1(level.Gaps[50])} / {Fmt.Ms1(level.Gaps[99])} / {Fmt.Ms(level.Gaps.Max)} | {Fmt.Ms1(level.Jitter[99])} | {level.LongGaps} | {Fmt.Num(level.LoadGeneratorCpuPercent)} | {level.Load} |");
                Console.WriteLine($"capacity {build.Name} calls={calls}: cpu={level.ServiceCpuPercent:0}% rss={level.MaxRss / 1048576.0:0}MB jitter p99={level.Jitter[99]:0.0} gen cpu={level.LoadGeneratorCpuPercent:0}%");
                foreach (var error in level.Errors.Take(3))
                {
                    Console.WriteLine($"  service: {error}");
                }

                if (!limits.ContainsKey(build.Name) && level.Jitter[99] > 20)
                {
                    limits[build.Name] = calls;
                }

                if (calls == 500)
                {
                    at500[build.Name] = level;
                }

                // Both processes together near the machine's cores: the jitter measured is the machine's limit, not the service's.
                var busy = level.ServiceCpuPercent + level.LoadGeneratorCpuPercent;
                if (busy >= 0.9 * 100 * Environment.ProcessorCount)
                {
                    var generator = level.LoadGeneratorCpuPercent >= level.ServiceCpuPercent ? ", and the load generator uses more of it than the service: it is the bottleneck" : string.Empty;
                    notes.Add(string.Create(CultureInfo.InvariantCulture, $"{build.Name} at {calls} calls: service {level.ServiceCpuPercent:0}% + load generator {level.LoadGeneratorCpuPercent:0}% of {100 * Environment.ProcessorCount}%, the machine is saturated{generator}"));
                }
            }
        }

        report.AppendLine();
        foreach (var build in options.Builds)
        {
            report.AppendLine(limits.TryGetValue(build.Name, out var at)
                ? $"{build.Name}: jitter p99 first passes 20 ms at **{at} calls**."
                : $"{build.Name}: jitter p99 stayed within 20 ms at every level measured.");
        }

        if (notes.Count > 0)
        {
            report.AppendLine().AppendLine("Saturated: " + string.Join("; ", notes) + ". At those levels the figures say what this machine carries with the callers and the vendors' emulators on it, not what the service alone can do; its CPU per call at the unsaturated levels is the better guide to that.");
        }

        if (at500.Count > 0)
        {
            report.AppendLine();
            report.AppendLine("Issue 13 goals at 500 calls:").AppendLine();
            report.AppendLine("| goal | " + string.Join(" | ", at500.Keys) + " |");
            report.AppendLine("|---|" + string.Concat(at500.Keys.Select(_ => "---|")));
            report.AppendLine("| RSS per call <= 200 KB | " + string.Join(" | ", at500.Values.Select(l => Fmt.Goal(Fmt.Num(l.PerCallKb) + " KB", l.PerCallKb <= 200))) + " |");
            report.AppendLine("| jitter p99 <= 20 ms | " + string.Join(" | ", at500.Values.Select(l => Fmt.Goal(Fmt.Ms1(l.Jitter[99]) + " ms", l.Jitter[99] <= 20))) + " |");
        }

        report.AppendLine();
        return report.ToString();
    }

    private static string LongReply(TimeSpan duration)
    {
        var text = new StringBuilder();
        for (var i = 1; text.Length * 0.065 < duration.TotalSeconds; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"This is sentence {i} of a long answer about your appointment. ");
        }

        return text.ToString().Trim();
    }

    private static async Task<LevelResult> RunLevelAsync(BenchOptions options, Build build, int calls, CancellationToken cancellationToken)
    {
        var ramp = TimeSpan.FromSeconds(calls / CallsPerSecond);
        var windowStart = ramp + TimeSpan.FromSeconds(8);
        var window = TimeSpan.FromSeconds(options.CapacitySeconds);
        var talk = windowStart + window + TimeSpan.FromSeconds(6);
        var reply = LongReply(talk);
        var clock = Stopwatch.StartNew();
        var starts = new ConcurrentDictionary<string, TimeSpan>(StringComparer.Ordinal);
        CallerScript Script() => new CallerScript()
            .WaitForAgentToFinish(timeout: TimeSpan.FromSeconds(60))
            .Say("Tell me about my appointment")
            .Silence(talk)
            .HangUp();
        await using var env = await BenchEnvironment.StartAsync(options.Delays, ["Tell me about my appointment"], reply, _ => Script(), callee: null, cancellationToken);
        var callee = env.Callee!;
        env.Telnyx.MediaCallee = (call, ct) =>
        {
            starts[call.CallControlId] = clock.Elapsed;
            return callee.RunAsync(call, ct);
        };
        var port = ServiceProcess.FreePort();
        await using var service = await ServiceProcess.StartAsync(build.Path, port, env.ServiceSettings(port, mediaStreams: true, options.Delays.EndpointingMs), cancellationToken);
        using var http = new HttpClient { BaseAddress = service.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var idleRss = service.Rss();
        clock.Restart();
        var ids = new string[calls];
        var placing = Task.WhenAll(Enumerable.Range(0, calls).Select(async i =>
        {
            await Task.Delay(TimeSpan.FromSeconds(i / CallsPerSecond), cancellationToken);
            var phone = "+3461" + (1000000 + i).ToString(CultureInfo.InvariantCulture);
            using var response = await http.PostAsJsonAsync("/api/call/initiate", new { telefono = phone, nombre = "Ana", saludo = LatencyBench.Greeting }, cancellationToken);
            response.EnsureSuccessStatusCode();
            ids[i] = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("call_control_id").GetString()!;
        }));
        await placing;
        var untilWindow = windowStart - clock.Elapsed;
        if (untilWindow > TimeSpan.Zero)
        {
            await Task.Delay(untilWindow, cancellationToken);
        }

        var me = Process.GetCurrentProcess();
        var from = clock.Elapsed;
        var serviceCpu = service.CpuTime();
        me.Refresh();
        var ownCpu = me.TotalProcessorTime;
        var maxRss = 0L;
        while (clock.Elapsed - from < window)
        {
            maxRss = Math.Max(maxRss, service.Rss());
            await Task.Delay(500, cancellationToken);
        }

        var to = clock.Elapsed;
        var elapsed = (to - from).TotalSeconds;
        var serviceCpuPercent = (service.CpuTime() - serviceCpu).TotalSeconds / elapsed * 100;
        me.Refresh();
        var ownCpuPercent = (me.TotalProcessorTime - ownCpu).TotalSeconds / elapsed * 100;
        var load = Machine.LoadAverage();
        var recordings = await Task.WhenAll(ids.Select(async id =>
        {
            try
            {
                return await callee.WaitForRecordingAsync(id, TimeSpan.FromSeconds(60), cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }));
        var gaps = new List<double>();
        var withAudio = 0;
        for (var i = 0; i < calls; i++)
        {
            if (recordings[i] is not { } recording || !starts.TryGetValue(ids[i], out var offset))
            {
                continue;
            }

            var arrivals = recording.Arrivals.Where(a => a.At + offset >= from && a.At + offset <= to).ToList();
            if (arrivals.Count > 0)
            {
                withAudio++;
            }

            for (var k = 1; k < arrivals.Count; k++)
            {
                gaps.Add((arrivals[k].At - arrivals[k - 1].At).TotalMilliseconds);
            }
        }

        return new LevelResult(
            calls,
            withAudio,
            serviceCpuPercent,
            idleRss,
            maxRss,
            new Percentiles(gaps),
            new Percentiles(gaps.Select(g => Math.Abs(g - 20))),
            gaps.Count(g => g > 200),
            ownCpuPercent,
            load,
            service.ErrorLines);
    }

    private sealed record LevelResult(
        int Calls,
        int CallsWithAudio,
        double ServiceCpuPercent,
        long IdleRss,
        long MaxRss,
        Percentiles Gaps,
        Percentiles Jitter,
        int LongGaps,
        double LoadGeneratorCpuPercent,
        string Load,
        IReadOnlyCollection<string> Errors)
    {
        /// <summary>RSS growth from idle to the window's maximum, per call.</summary>
        public double PerCallKb => (MaxRss - IdleRss) / 1024.0 / Calls;
    }
}
