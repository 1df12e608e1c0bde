using System.Globalization;
using System.Text;

namespace TelnyxAiService.Bench;

/// <summary>Start of the published build to its first 200 on /api/health, and its idle RSS, per build and runtime setting.</summary>
internal static class StartupBench
{
    private const int Runs = 5;

    public static async Task<string> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var report = new StringBuilder();
        report.AppendLine("## 4. Process: start to first 200 on /api/health, idle RSS").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"`dotnet telnyx-ai-service.dll` from the publish folder, all four vendors configured (pointing at running emulators, so /api/health answers 200), SQLite store. Start = `Process.Start`; the harness polls /api/health every 2 ms. Idle RSS is VmRSS 3 s after the first 200. Median of {Runs} runs (min-max). InvariantGlobalization is on in every build.");
        report.AppendLine("Native AOT: not measured: `PublishAot` on net10.0 fails on this machine's package mirror (NU1101: `Microsoft.NETCore.App.Runtime.NativeAOT.linux-x64` is missing; see the team's dependency notes (shared/dependencies.md beside the repository, §A6), where a net9 AOT hello-world starts in 27 ms at 19 MB).").AppendLine();
        report.AppendLine("| build | runtime settings | start -> first 200 ms (median, min-max) | idle RSS MB (median) |");
        report.AppendLine("|---|---|---|---|");
        await using var env = await BenchEnvironment.StartAsync(options.Delays, LatencyBench.Lines, LatencyBench.Reply, caller: null, callee: null, cancellationToken);
        var builds = new List<(string Name, string Dll)> { ("JIT (dotnet publish -c Release)", options.ServiceDll) };
        if (options.ServiceR2rDll is { } r2r && File.Exists(r2r))
        {
            builds.Add(("ReadyToRun (-p:PublishReadyToRun=true -r linux-x64 --self-contained false)", r2r));
        }

        var settings = new (string Name, Dictionary<string, string> Env)[]
        {
            ("workstation GC (default)", new() { ["DOTNET_gcServer"] = "0" }),
            ("server GC", new() { ["DOTNET_gcServer"] = "1" }),
            ("workstation GC, non-concurrent", new() { ["DOTNET_gcServer"] = "0", ["DOTNET_gcConcurrent"] = "0" }),
            ("workstation GC, TieredPGO off", new() { ["DOTNET_gcServer"] = "0", ["DOTNET_TieredPGO"] = "0" }),
            ("workstation GC, TieredCompilation off", new() { ["DOTNET_gcServer"] = "0", ["DOTNET_TieredCompilation"] = "0" }),
        };
        foreach (var (build, dll) in builds)
        {
            foreach (var (name, extra) in settings)
            {
                var times = new List<double>();
                var rss = new List<double>();
                for (var run = 0; run < Runs; run++)
                {
                    var port = ServiceProcess.FreePort();
                    var environment = env.ServiceSettings(port, mediaStreams: true, options.Delays.EndpointingMs);
                    foreach (var (key, value) in extra)
                    {
                        environment[key] = value;
                    }

                    await using var service = await ServiceProcess.StartAsync(dll, port, environment, cancellationToken);
                    times.Add(service.StartedIn.TotalMilliseconds);
                    await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
                    rss.Add(service.Rss());
                }

                var t = new Percentiles(times);
                report.AppendLine(CultureInfo.InvariantCulture, $"| {build} | {name} | {Fmt.Ms(t[50])} ({Fmt.Ms(times.Min())}-{Fmt.Ms(times.Max())}) | {Fmt.Mb((long)new Percentiles(rss)[50])} |");
                Console.WriteLine($"startup {build} {name}: {t[50]:0} ms, {new Percentiles(rss)[50] / 1048576:0.0} MB");
            }
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"loadavg after: {Machine.LoadAverage()}").AppendLine();
        return report.ToString();
    }
}
