using System.Globalization;
using System.Text;
using TelnyxAiService.Bench;

// Usage: TelnyxAiService.Bench <all|latency|capacity|startup|http>... [--flags]; see scripts/bench --help.
var options = args is ["--help"] ? null : BenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(BenchOptions.Help);
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

var started = DateTimeOffset.Now;
var loadBefore = Machine.LoadAverage();
Directory.CreateDirectory(options.ResultsDir);
foreach (var bench in options.Benches)
{
    Console.WriteLine($"== {bench} (loadavg {Machine.LoadAverage()})");
    var section = bench switch
    {
        "latency" => await LatencyBench.RunAsync(options, cts.Token) + await BaselineBench.RunAsync(options, cts.Token),
        "capacity" => await CapacityBench.RunAsync(options, cts.Token),
        "startup" => await StartupBench.RunAsync(options, cts.Token),
        "http" => await HttpBench.RunAsync(options, cts.Token),
        _ => throw new InvalidOperationException(bench),
    };
    var header = new StringBuilder()
        .AppendLine(CultureInfo.InvariantCulture, $"<!-- {bench}: {started:yyyy-MM-dd HH:mm zzz}; loadavg before {loadBefore}, after {Machine.LoadAverage()}; {Machine.Describe()}; command: scripts/bench {string.Join(' ', args)} -->");
    await File.WriteAllTextAsync(Path.Combine(options.ResultsDir, $"{bench}.md"), header + section, cts.Token);
}

await Report.WriteAsync(options, cts.Token);
return 0;

internal sealed record BenchOptions
{
    public const string Help = """
        TelnyxAiService.Bench <all|latency|capacity|startup|http>... [flags]
          --service PATH            JIT build: published telnyx-ai-service.dll (default artifacts/bench/publish/telnyx-ai-service.dll)
          --service-native PATH     Native AOT executable (scripts/publish); measured beside the JIT build when given
          --results DIR             per-bench sections (default bench/results)
          --report PATH             the markdown report to update (default BENCHMARKS.md)
          --latency-calls 1,50,200  concurrent calls for latency and baseline
          --capacity-calls 1,10,100,500,1000
          --capacity-seconds 15     measurement window per capacity level
          --endpointing-ms 300  --deepgram-final-delay-ms 0
          --claude-ttft-ms 400  --claude-tps 60
          --tts-ttfb-ms 200     --tts-realtime 4
          --http-seconds 10     --http-connections 64
        """;

    public required IReadOnlyList<string> Benches { get; init; }

    public string ServiceDll { get; init; } = "artifacts/bench/publish/telnyx-ai-service.dll";

    public string? ServiceNative { get; init; }

    /// <summary>The builds every bench measures side by side: the JIT build, then the native executable if given.</summary>
    public IReadOnlyList<Build> Builds => ServiceNative is { } native ? [new("JIT", ServiceDll), new("native", native)] : [new("JIT", ServiceDll)];

    public string ResultsDir { get; init; } = "bench/results";

    public string ReportPath { get; init; } = "BENCHMARKS.md";

    public IReadOnlyList<int> LatencyCalls { get; init; } = [1, 50, 200];

    public IReadOnlyList<int> CapacityCalls { get; init; } = [1, 10, 100, 500, 1000];

    public int CapacitySeconds { get; init; } = 15;

    public Delays Delays { get; init; } = new(300, 0, 400, 60, 200, 4);

    public int HttpSeconds { get; init; } = 10;

    public int HttpConnections { get; init; } = 64;

    public static BenchOptions? Parse(string[] args)
    {
        string[] all = ["latency", "capacity", "startup", "http"];
        var benches = new List<string>();
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Length)
                {
                    return null;
                }

                flags[args[i][2..]] = args[++i];
            }
            else if (args[i] == "all")
            {
                benches.AddRange(all);
            }
            else if (all.Contains(args[i]))
            {
                benches.Add(args[i]);
            }
            else
            {
                return null;
            }
        }

        if (benches.Count == 0)
        {
            return null;
        }

        var d = new Delays(300, 0, 400, 60, 200, 4);
        var options = new BenchOptions { Benches = benches.Distinct().ToList() };
        foreach (var (name, value) in flags)
        {
            options = name switch
            {
                "service" => options with { ServiceDll = value },
                "service-native" => options with { ServiceNative = value },
                "results" => options with { ResultsDir = value },
                "report" => options with { ReportPath = value },
                "latency-calls" => options with { LatencyCalls = Ints(value) },
                "capacity-calls" => options with { CapacityCalls = Ints(value) },
                "capacity-seconds" => options with { CapacitySeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                "http-seconds" => options with { HttpSeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                "http-connections" => options with { HttpConnections = int.Parse(value, CultureInfo.InvariantCulture) },
                "endpointing-ms" => options with { Delays = d = d with { EndpointingMs = int.Parse(value, CultureInfo.InvariantCulture) } },
                "deepgram-final-delay-ms" => options with { Delays = d = d with { DeepgramFinalDelayMs = int.Parse(value, CultureInfo.InvariantCulture) } },
                "claude-ttft-ms" => options with { Delays = d = d with { ClaudeTtftMs = int.Parse(value, CultureInfo.InvariantCulture) } },
                "claude-tps" => options with { Delays = d = d with { ClaudeTokensPerSecond = double.Parse(value, CultureInfo.InvariantCulture) } },
                "tts-ttfb-ms" => options with { Delays = d = d with { TtsTtfbMs = int.Parse(value, CultureInfo.InvariantCulture) } },
                "tts-realtime" => options with { Delays = d = d with { TtsRealtimeFactor = double.Parse(value, CultureInfo.InvariantCulture) } },
                _ => null,
            };
            if (options is null)
            {
                return null;
            }
        }

        return options;
    }

    private static int[] Ints(string value) => [.. value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
}

/// <summary>A build of the service under test: <paramref name="Path"/> is a .dll run by <c>dotnet</c>, or a native executable.</summary>
internal sealed record Build(string Name, string Path);
