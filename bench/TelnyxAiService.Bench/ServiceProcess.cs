using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TelnyxAiService.Bench;

/// <summary>
/// The published service as a child process (<c>dotnet telnyx-ai-service.dll</c>, or the native executable), configured only through environment
/// variables, with its CPU time and RSS read from /proc and its per-turn latency log lines collected.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _workDir;
    private readonly ConcurrentQueue<string> _turnLines = new();
    private readonly ConcurrentQueue<string> _errorLines = new();

    private ServiceProcess(Process process, string workDir, int port)
    {
        _process = process;
        _workDir = workDir;
        Port = port;
        BaseUrl = new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }

    public Uri BaseUrl { get; }

    public int Pid => _process.Id;

    /// <summary>From Process.Start to the first 200 on /api/health.</summary>
    public TimeSpan StartedIn { get; private set; }

    /// <summary>Lines of the per-turn latency log ("decided=... voice=...").</summary>
    public IReadOnlyCollection<string> TurnLines => _turnLines;

    /// <summary>Warnings and errors the service logged.</summary>
    public IReadOnlyCollection<string> ErrorLines => _errorLines;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts the service on <paramref name="port"/> and waits for its first 200 on /api/health: <c>dotnet PATH</c> for
    /// a .dll, otherwise PATH itself (the native executable).
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(string path, int port, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var workDir = Directory.CreateTempSubdirectory("telnyx-bench-").FullName;
        var fullPath = Path.GetFullPath(path);
        var start = fullPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { fullPath } }
            : new ProcessStartInfo(fullPath);
        start.WorkingDirectory = workDir;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["DATABASE_URL"] = $"sqlite:{Path.Combine(workDir, "calls.db")}";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{fullPath} did not start");
        var service = new ServiceProcess(process, workDir, port);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var health = new Uri(service.BaseUrl, "/api/health");
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the service exited with {process.ExitCode}: {string.Join(" | ", service._errorLines)}");
            }

            try
            {
                using var response = await http.GetAsync(health, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    service.StartedIn = clock.Elapsed;
                    return service;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                await service.DisposeAsync();
                throw new TimeoutException("the service did not answer /api/health with 200 within 60 s");
            }

            await Task.Delay(2, cancellationToken);
        }
    }

    /// <summary>User + system CPU time the service has used so far.</summary>
    public TimeSpan CpuTime()
    {
        // /proc/PID/stat: fields after the ")" of the command name; utime and stime are the 12th and 13th.
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Resident set size in bytes (VmRSS).</summary>
    public long Rss() => ProcFs.VmRss(Pid);

    /// <summary>How many of the service's threads are server GC threads (0 under workstation GC): which GC mode it runs.</summary>
    public int ServerGcThreads() =>
        Directory.GetDirectories($"/proc/{Pid}/task").Count(task => File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Server GC", StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static bool IsProblem(string line) =>
        line.StartsWith("Unhandled", StringComparison.Ordinal) || line.Contains("Exception", StringComparison.Ordinal)
        || line.Contains("warn:", StringComparison.Ordinal) || line.Contains("fail:", StringComparison.Ordinal) || line.Contains("crit:", StringComparison.Ordinal);

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.Contains(" decided=", StringComparison.Ordinal))
        {
            _turnLines.Enqueue(line);
        }
        else if (_errorLines.Count < 200 && IsProblem(line))
        {
            _errorLines.Enqueue(line);
        }
    }
}

internal static class ProcFs
{
    public static long VmRss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
