using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TelnyxAiService.Tests.TestHost;

/// <summary>
/// The service run as a real child process with only the given settings in its environment, so a test can SIGKILL it
/// and start it again on the same database. The process is the native executable named by <c>SERVICE_EXECUTABLE</c>
/// (<c>scripts/test</c> publishes it and sets it, so CI runs these tests against what is deployed), or else the JIT
/// build beside the tests (<c>dotnet telnyx-ai-service.dll</c>).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private ServiceProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public HttpClient Client { get; }

    /// <summary>The process's resident memory now.</summary>
    public long ResidentBytes
    {
        get
        {
            process.Refresh();
            return process.WorkingSet64;
        }
    }

    /// <summary>What the service logged, for failure messages.</summary>
    public string Output => string.Join('\n', output.TakeLast(200));

    /// <summary>A loopback port nothing listens on: to serve on, or to find closed.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the service on <paramref name="port"/> and waits until it answers HTTP.</summary>
    public static async Task<ServiceProcess> StartAsync(int port, IReadOnlyDictionary<string, string> settings, string workingDirectory, CancellationToken cancellationToken)
    {
        var start = Command();
        start.WorkingDirectory = workingDirectory;
        foreach (var key in start.Environment.Keys.Where(k => !k.StartsWith("DOTNET", StringComparison.Ordinal) && k is not ("PATH" or "HOME")).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var service = new ServiceProcess(process, port);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {process.ExitCode}:\n{service.Output}");
            }

            try
            {
                using var response = await service.Client.GetAsync("/api/sessions/stats", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The service did not start within 60 s:\n{service.Output}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>The command that runs the service with <paramref name="arguments"/>, its output redirected.</summary>
    public static ProcessStartInfo Command(params string[] arguments)
    {
        var native = Environment.GetEnvironmentVariable("SERVICE_EXECUTABLE");
        var start = string.IsNullOrEmpty(native)
            ? new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "telnyx-ai-service.dll"), .. arguments])
            : new ProcessStartInfo(native, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        return start;
    }

    /// <summary>SIGKILL: the process gets no chance to flush or stop anything.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>SIGTERM, as a deploy stops it: waits until the process has exited.</summary>
    /// <returns>The process's exit code.</returns>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(CancellationToken.None);
        }

        await process.WaitForExitAsync(CancellationToken.None).WaitAsync(timeout);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!process.HasExited)
        {
            await KillAsync();
        }

        process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 2000)
        {
            output.TryDequeue(out _);
        }
    }
}
