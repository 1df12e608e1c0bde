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
        report.AppendLine("| calls | calls with audio in window | service CPU % (of 1 core) | service RSS idle -> window max MB | RSS per call KB | gap p50 / p99 / max ms | jitter p99 ms | gaps > 200 ms | load generator CPU % | loadavg |");
        report.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        int? limit = null;
        foreach (var calls in options.CapacityCalls)
        {
            var level = await RunLevelAsync(options, calls, cancellationToken);
            report.AppendLine(CultureInfo.InvariantCulture, $"| {calls} | {level.CallsWithAudio} | {Fmt.Num(level.ServiceCpuPercent)} | {Fmt.Mb(level.IdleRss)} -> {Fmt.Mb(level.MaxRss)} | {Fmt.Num((level.MaxRss - level.IdleRss) / 1024.0 / calls)} | {Fmt.Ms1(level.Gaps[50])} / {Fmt.Ms1(level.Gaps[99])} / {Fmt.Ms(level.Gaps.Max)} | {Fmt.Ms1(level.Jitter[99])} | {level.LongGaps} | {Fmt.Num(level.LoadGeneratorCpuPercent)} | {level.Load} |");
            Console.WriteLine($"capacity calls={calls}: cpu={level.ServiceCpuPercent:0}% rss={level.MaxRss / 1048576.0:0}MB jitter p99={level.Jitter[99]:0.0} gen cpu={level.LoadGeneratorCpuPercent:0}%");
            foreach (var error in level.Errors.Take(3))
            {
                Console.WriteLine($"  service: {error}");
            }

            if (limit is null && level.Jitter[99] > 20)
            {
                limit = calls;
            }
        }

        report.AppendLine();
        report.AppendLine(limit is { } at
            ? $"Jitter p99 first passes 20 ms at **{at} calls**."
            : "Jitter p99 stayed within 20 ms at every level measured.");
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

    private static async Task<LevelResult> RunLevelAsync(BenchOptions options, int calls, CancellationToken cancellationToken)
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
        await using var service = await ServiceProcess.StartAsync(options.ServiceDll, port, env.ServiceSettings(port, mediaStreams: true, options.Delays.EndpointingMs), cancellationToken);
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
        int CallsWithAudio,
        double ServiceCpuPercent,
        long IdleRss,
        long MaxRss,
        Percentiles Gaps,
        Percentiles Jitter,
        int LongGaps,
        double LoadGeneratorCpuPercent,
        string Load,
        IReadOnlyCollection<string> Errors);
}
