using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using TelnyxAiService.Emulators.Telnyx;

namespace TelnyxAiService.Bench;

/// <summary>Requests/s and p99 with wrk for GET /api/health and POST /api/call/initiate (webhook mode, against the Telnyx emulator).</summary>
internal static partial class HttpBench
{
    public static async Task<string> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var report = new StringBuilder();
        report.AppendLine("## 5. HTTP throughput (wrk)").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"`wrk -t2 -c{options.HttpConnections} -d{options.HttpSeconds}s --latency` after a 3 s warm-up run, against each build with its defaults (no `DOTNET_` settings). POST uses bench/TelnyxAiService.Bench/initiate.lua (a new number per request). Webhook mode (`USE_MEDIA_STREAMS=false`); the Telnyx emulator answers every dial, and each callee is busy (hangs up 50 ms later), so calls do not pile up. wrk, the emulator and the service share the 2 cores.").AppendLine();
        report.AppendLine("| build | request | LOG_LEVEL | requests/s | p50 ms | p99 ms | non-2xx | errors | service CPU % | loadavg |");
        report.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        var lua = Path.Combine(AppContext.BaseDirectory, "initiate.lua");
        var initiate = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (build, logLevel) in options.Builds.SelectMany(b => new[] { (b, "(default: Information)"), (b, "Warning") }))
        {
            await using var env = await BenchEnvironment.StartAsync(
                options.Delays,
                LatencyBench.Lines,
                LatencyBench.Reply,
                caller: null,
                new CalleeScript { Outcome = CalleeOutcome.Busy, AnswerAfter = TimeSpan.FromMilliseconds(50) },
                cancellationToken);
            var port = ServiceProcess.FreePort();
            var settings = env.ServiceSettings(port, mediaStreams: false, options.Delays.EndpointingMs);
            if (!logLevel.StartsWith('('))
            {
                settings["LOG_LEVEL"] = logLevel;
            }

            await using var service = await ServiceProcess.StartAsync(build.Path, port, settings, cancellationToken);
            foreach (var (name, args) in new[]
            {
                ("GET /api/health", $"{service.BaseUrl}api/health"),
                ("POST /api/call/initiate", $"-s {lua} {service.BaseUrl}api/call/initiate"),
            })
            {
                await WrkAsync($"-t2 -c{options.HttpConnections} -d3s {args}", cancellationToken);
                var cpu = service.CpuTime();
                var clock = Stopwatch.StartNew();
                var output = await WrkAsync($"-t2 -c{options.HttpConnections} -d{options.HttpSeconds}s --latency {args}", cancellationToken);
                var cpuPercent = (service.CpuTime() - cpu).TotalSeconds / clock.Elapsed.TotalSeconds * 100;
                var rps = Value(RequestsPerSecond(), output);
                if (name.StartsWith("POST", StringComparison.Ordinal) && logLevel.StartsWith('('))
                {
                    initiate[build.Name] = Fmt.Goal(rps + " req/s", double.TryParse(rps, CultureInfo.InvariantCulture, out var value) && value >= 2000);
                }

                report.AppendLine(CultureInfo.InvariantCulture, $"| {build.Name} | {name} | {logLevel} | {rps} | {Latency(output, "50%")} | {Latency(output, "99%")} | {Value(Non2xx(), output, "0")} | {Value(SocketErrors(), output, "0")} | {Fmt.Num(cpuPercent)} | {Machine.LoadAverage()} |");
                Console.WriteLine($"http {build.Name} {name} {logLevel}: {rps} req/s p99={Latency(output, "99%")}");
            }
        }

        report.AppendLine();
        report.AppendLine("Issue 13 goal, POST /api/call/initiate >= 2,000 req/s (default LOG_LEVEL): " + string.Join("; ", initiate.Select(i => $"{i.Key} {i.Value}")) + ".");
        report.AppendLine();
        return report.ToString();
    }

    private static async Task<string> WrkAsync(string arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("wrk", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start (apt-get install -y wrk)");
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return output;
    }

    private static string Value(Regex pattern, string output, string missing = "-") =>
        pattern.Match(output) is { Success: true } match ? match.Groups[1].Value : missing;

    /// <summary>A latency percentile from wrk's distribution, in ms.</summary>
    private static string Latency(string output, string percentile)
    {
        var match = Regex.Match(output, $@"^\s*{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            return "-";
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var ms = match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
        return Fmt.Num(ms, "0.00");
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors:\s+(.+)$", RegexOptions.Multiline)]
    private static partial Regex SocketErrors();
}
