using System.ComponentModel;
using System.Diagnostics;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Voice.Flite;

/// <summary>
/// One run of a speech engine binary, started without a shell (arguments are passed as a list). Its stderr is collected
/// for error messages; disposing kills it if it is still running, which is how cancellation stops it.
/// </summary>
internal sealed class EngineProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _program;
    private readonly Task<string> _errors;

    private EngineProcess(Process process, string program)
    {
        _process = process;
        _program = program;
        _errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
    }

    public Stream Output => _process.StandardOutput.BaseStream;

    public Stream Input => _process.StandardInput.BaseStream;

    public static EngineProcess Start(string program, string package, IEnumerable<string> arguments, bool pipeInput)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = pipeInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        try
        {
            var process = Process.Start(startInfo) ?? throw new ProviderException("flite", $"{program} did not start", retryable: false);
            return new EngineProcess(process, program);
        }
        catch (Win32Exception e)
        {
            throw new ProviderException("flite", $"{program} could not be run: install the Debian package {package} (scripts/setup)", retryable: false, e);
        }
    }

    /// <summary>Waits for the process to exit; a non-zero exit code becomes a <see cref="ProviderException"/>.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        if (_process.ExitCode != 0)
        {
            var reason = (await _errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";
            throw new ProviderException("flite", $"{_program} failed with exit code {_process.ExitCode}: {reason}", retryable: false);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
