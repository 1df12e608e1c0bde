using System.Globalization;
using System.Text;

namespace TelnyxAiService.Bench;

/// <summary>
/// Per build and runtime setting: start to the first 200 on /api/health and idle RSS; then the first turn of a freshly
/// started process (JIT compilation shows there, and nowhere once warm).
/// </summary>
internal static class StartupBench
{
    private const int Runs = 5;

    private static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(2);

    public static async Task<string> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var report = new StringBuilder();
        report.AppendLine("## 4. Process: start to first 200 on /api/health, idle RSS, first turn of a fresh process").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"JIT = `dotnet telnyx-ai-service.dll` from `dotnet publish -c Release`; native = the executable `scripts/publish` prints (Native AOT, linux-x64). All four vendors configured (pointing at running emulators, so /api/health answers 200), SQLite store. Start = `Process.Start`; the harness polls /api/health every 2 ms. Idle RSS is VmRSS {IdleAfter.TotalSeconds:0} s after the first 200. Median of {Runs} runs (min-max). Runtime settings are `DOTNET_` environment variables, which both builds read; \"server GC threads\" counts the process's `.NET Server GC` threads (/proc/PID/task/*/comm; 0 = workstation GC), which shows the setting took effect. The defaults row runs the GC mode the build was made with (the Web SDK's default is server GC; .NET 10 turns DATAS on with server GC unless `DOTNET_GCDynamicAdaptationMode=0`).").AppendLine();
        report.AppendLine("| build | runtime settings | server GC threads | start -> first 200 ms (median, min-max) | idle RSS MB (median, min-max) |");
        report.AppendLine("|---|---|---|---|---|");
        await using var env = await BenchEnvironment.StartAsync(options.Delays, LatencyBench.Lines, LatencyBench.Reply, _ => LatencyBench.Script(LatencyBench.Lines[..1]), callee: null, cancellationToken);
        var settings = new (string Name, Dictionary<string, string> Env)[]
        {
            ("defaults (no DOTNET_ settings)", []),
            ("workstation GC (gcServer=0)", new() { ["DOTNET_gcServer"] = "0" }),
            ("workstation GC, non-concurrent (gcServer=0, gcConcurrent=0)", new() { ["DOTNET_gcServer"] = "0", ["DOTNET_gcConcurrent"] = "0" }),
            ("workstation GC, GCConserveMemory=5", new() { ["DOTNET_gcServer"] = "0", ["DOTNET_GCConserveMemory"] = "5" }),
            ("server GC (gcServer=1, GCDynamicAdaptationMode=0)", new() { ["DOTNET_gcServer"] = "1", ["DOTNET_GCDynamicAdaptationMode"] = "0" }),
            ("server GC + DATAS (gcServer=1, GCDynamicAdaptationMode=1)", new() { ["DOTNET_gcServer"] = "1", ["DOTNET_GCDynamicAdaptationMode"] = "1" }),
        };
        var defaults = new Dictionary<string, (double StartMs, double RssMb)>(StringComparer.Ordinal);
        foreach (var build in options.Builds)
        {
            foreach (var (name, extra) in settings)
            {
                var times = new List<double>();
                var rss = new List<double>();
                var gcThreads = new SortedSet<int>();
                for (var run = 0; run < Runs; run++)
                {
                    var port = ServiceProcess.FreePort();
                    var environment = env.ServiceSettings(port, mediaStreams: true, options.Delays.EndpointingMs);
                    foreach (var (key, value) in extra)
                    {
                        environment[key] = value;
                    }

                    await using var service = await ServiceProcess.StartAsync(build.Path, port, environment, cancellationToken);
                    times.Add(service.StartedIn.TotalMilliseconds);
                    await Task.Delay(IdleAfter, cancellationToken);
                    rss.Add(service.Rss());
                    gcThreads.Add(service.ServerGcThreads());
                }

                var t = new Percentiles(times);
                var r = new Percentiles(rss);
                if (extra.Count == 0)
                {
                    defaults[build.Name] = (t[50], r[50] / 1048576);
                }

                report.AppendLine(CultureInfo.InvariantCulture, $"| {build.Name} | {name} | {string.Join(", ", gcThreads)} | {Fmt.Ms(t[50])} ({Fmt.Ms(times.Min())}-{Fmt.Ms(times.Max())}) | {Fmt.Mb((long)r[50])} ({Fmt.Mb((long)rss.Min())}-{Fmt.Mb((long)rss.Max())}) |");
                Console.WriteLine($"startup {build.Name} {name}: {t[50]:0} ms, {r[50] / 1048576:0.0} MB, server GC threads {string.Join(",", gcThreads)}");
            }
        }

        var vendorMs = options.Delays.VendorMs(LatencyBench.FirstChunkTokens(LatencyBench.Reply));
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"**First turn of a fresh process**: per sample a newly started service (defaults, media streams) takes one call; the caller waits for the greeting and says \"{LatencyBench.Lines[0]}\". Voice to voice of that first reply as in section 1; server-added = that - the sum of the vendors' delays ({Fmt.Ms(vendorMs)} ms). Median of {Runs} fresh processes (min-max). Section 1 has the warm figures.").AppendLine();
        report.AppendLine("| build | first reply voice to voice ms (median, min-max) | server-added ms (median, min-max) |");
        report.AppendLine("|---|---|---|");
        var firstTurn = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var build in options.Builds)
        {
            var latencies = new List<double>();
            for (var run = 0; run < Runs; run++)
            {
                var port = ServiceProcess.FreePort();
                await using var service = await ServiceProcess.StartAsync(build.Path, port, env.ServiceSettings(port, mediaStreams: true, options.Delays.EndpointingMs), cancellationToken);
                using var http = new HttpClient { BaseAddress = service.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
                var recording = await LatencyBench.CallAsync(env, http, run, cancellationToken);
                if (recording.CallerLines.Count > 0 && recording.FirstArrivalAfter(recording.CallerLines[0].End) is { } first)
                {
                    latencies.Add((first.At - recording.CallerLines[0].End).TotalMilliseconds);
                }
                else
                {
                    Console.WriteLine($"first turn {build.Name}: no reply heard; service: {string.Join(" | ", service.ErrorLines.Take(3))}");
                }
            }

            var lat = new Percentiles(latencies);
            firstTurn[build.Name] = lat[50] - vendorMs;
            var range = latencies.Count == 0 ? "-" : $"{Fmt.Ms(latencies.Min())}-{Fmt.Ms(latencies.Max())}";
            var serverRange = latencies.Count == 0 ? "-" : $"{Fmt.Ms(latencies.Min() - vendorMs)}-{Fmt.Ms(latencies.Max() - vendorMs)}";
            report.AppendLine(CultureInfo.InvariantCulture, $"| {build.Name} | {Fmt.Ms(lat[50])} ({range}) | {Fmt.Ms(lat[50] - vendorMs)} ({serverRange}) |");
            Console.WriteLine($"first turn {build.Name}: {lat[50]:0} ms, server-added {lat[50] - vendorMs:0} ms, n={lat.Count}/{Runs}");
        }

        report.AppendLine();
        report.AppendLine("Issue 13 goals (defaults row):").AppendLine();
        report.AppendLine("| goal | " + string.Join(" | ", options.Builds.Select(b => b.Name)) + " |");
        report.AppendLine("|---|" + string.Concat(options.Builds.Select(_ => "---|")));
        report.AppendLine("| start -> first 200 <= 100 ms | " + string.Join(" | ", options.Builds.Select(b => Fmt.Goal(Fmt.Ms(defaults[b.Name].StartMs) + " ms", defaults[b.Name].StartMs <= 100))) + " |");
        report.AppendLine("| idle RSS <= 30 MB | " + string.Join(" | ", options.Builds.Select(b => Fmt.Goal(Fmt.Num(defaults[b.Name].RssMb, "0.0") + " MB", defaults[b.Name].RssMb <= 30))) + " |");
        report.AppendLine("| first turn server-added <= 10 ms | " + string.Join(" | ", options.Builds.Select(b => Fmt.Goal(Fmt.Ms(firstTurn[b.Name]) + " ms", firstTurn[b.Name] <= 10))) + " |");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"loadavg after: {Machine.LoadAverage()}").AppendLine();
        return report.ToString();
    }
}
