using System.Diagnostics;
using System.Reflection;

namespace TelnyxAiService.Demo;

/// <summary>
/// The real service, started through its own entry point (Program.cs, exactly as <c>telnyx-ai-service</c> runs) on a
/// thread of this process, with settings passed as command-line configuration. The host it builds is caught as it is
/// built (the hosting diagnostics events, the mechanism WebApplicationFactory uses), so the caller can add services and
/// logging before it starts, read its services while it runs, and stop it.
/// </summary>
internal sealed class InProcessService : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly Task<int> _exited;

    private InProcessService(IHost host, Task<int> exited)
    {
        _host = host;
        _exited = exited;
    }

    public IServiceProvider Services => _host.Services;

    /// <summary>
    /// Starts the service and waits until it listens. Returns null when it stopped instead (a configuration error,
    /// already printed by the service), with its exit code.
    /// </summary>
    public static async Task<(InProcessService? Service, int ExitCode)> StartAsync(
        IReadOnlyList<KeyValuePair<string, string>> settings,
        Action<IHostBuilder> configure,
        CancellationToken cancellationToken)
    {
        var entryPoint = typeof(Program).Assembly.EntryPoint ?? throw new InvalidOperationException("the service assembly has no entry point");
        string[] args = [.. settings.Select(s => $"--{s.Key}={s.Value}")];
        var listener = new HostListener(configure);
        using var subscription = DiagnosticListener.AllListeners.Subscribe(listener);
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            HostListener.Current.Value = listener;
            try
            {
                exited.TrySetResult((int)entryPoint.Invoke(null, [args])!);
            }
            catch (TargetInvocationException e)
            {
                exited.TrySetException(e.InnerException ?? e);
            }
        })
        {
            Name = "telnyx-ai-service",
            IsBackground = true,
        };
        thread.Start();

        var built = await Task.WhenAny(listener.Built, exited.Task).WaitAsync(cancellationToken);
        if (built == exited.Task)
        {
            return (null, await exited.Task);
        }

        var host = await listener.Built;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => started.TrySetResult());
        if (await Task.WhenAny(started.Task, exited.Task).WaitAsync(cancellationToken) == exited.Task)
        {
            return (null, await exited.Task);
        }

        return (new InProcessService(host, exited.Task), 0);
    }

    /// <summary>Stops the service as Ctrl-C would (calls still running end with it) and waits for its entry point to return.</summary>
    public async ValueTask DisposeAsync()
    {
        _host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await _exited.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Sees every host built in the process and keeps only the one built on the entry point's thread.</summary>
    private sealed class HostListener(Action<IHostBuilder> configure) : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
    {
        public static readonly AsyncLocal<HostListener?> Current = new();

        private readonly TaskCompletionSource<IHost> _built = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<IHost> Built => _built.Task;

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == "Microsoft.Extensions.Hosting")
            {
                value.Subscribe(this);
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (Current.Value != this)
            {
                return;
            }

            switch (value)
            {
                case { Key: "HostBuilding", Value: IHostBuilder builder }:
                    configure(builder);
                    break;
                case { Key: "HostBuilt", Value: IHost host }:
                    _built.TrySetResult(host);
                    break;
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
