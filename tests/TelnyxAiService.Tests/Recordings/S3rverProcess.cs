using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TelnyxAiService.Recordings;
using TelnyxAiService.Telemetry;

namespace TelnyxAiService.Tests.Recordings;

/// <summary>
/// A real S3-compatible server: s3rver (npm, installed in s3rver/ by scripts/setup) on a free loopback port, with one
/// bucket and its own data directory, checking SigV4 signatures made with the S3RVER/S3RVER key.
/// </summary>
internal sealed class S3rverProcess : IAsyncDisposable
{
    private readonly Process _node;
    private readonly string _data;

    private S3rverProcess(Process node, string data)
    {
        _node = node;
        _data = data;
    }

    public Uri Endpoint { get; private set; } = new("http://127.0.0.1");

    /// <summary>
    /// Whether a WAV read back is whole (its RIFF size says so): s3rver, unlike S3, serves an object while its upload is
    /// still being written, so a test that reads a recording as soon as it appears may get its first part.
    /// </summary>
    public static bool IsWholeWav(byte[] wav) => wav.Length >= 44 && BitConverter.ToInt32(wav, 4) + 8 == wav.Length;

    public static IAmazonS3 Client(RecordingOptions options) => new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), options.S3Config());

    /// <summary>
    /// For the in-process service (with <c>S3_BUCKET</c> and <c>S3_ENDPOINT_URL</c> set to this server): an uploader
    /// whose S3 client signs with the S3RVER key, as the service's own takes its credentials from the environment.
    /// </summary>
    public static void UseS3rverKey(IServiceCollection services) => services.AddSingleton(sp =>
    {
        var options = sp.GetRequiredService<RecordingOptions>();
        return new RecordingUploader(options, Client(options), sp.GetRequiredService<ServiceTelemetry>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RecordingUploader>>());
    });

    /// <summary>Starts s3rver, or skips the test when scripts/setup has not installed it.</summary>
    public static async Task<S3rverProcess> StartAsync(string bucket, CancellationToken cancellationToken)
    {
        var script = Path.Combine(Folder(), "node_modules", "s3rver", "bin", "s3rver.js");
        Assert.SkipUnless(File.Exists(script), "s3rver is not installed: run scripts/setup");

        var data = Directory.CreateTempSubdirectory("s3rver-").FullName;
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { script, "-d", data, "-a", "127.0.0.1", "-p", "0", "--configure-bucket", bucket })
        {
            start.ArgumentList.Add(argument);
        }

        const string Listening = "S3rver listening on ";
        var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var node = new Process { StartInfo = start, EnableRaisingEvents = true };
        node.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith(Listening, StringComparison.Ordinal) == true)
            {
                address.TrySetResult(e.Data[Listening.Length..].Trim());
            }
        };
        node.ErrorDataReceived += (_, _) => { };
        node.Exited += (_, _) => address.TrySetException(new InvalidOperationException($"s3rver exited with {node.ExitCode} before listening"));
        node.Start();
        node.BeginOutputReadLine();
        node.BeginErrorReadLine();
        var server = new S3rverProcess(node, data);
        try
        {
            server.Endpoint = new Uri($"http://{await address.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken)}");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_node.HasExited)
        {
            _node.Kill(entireProcessTree: true);
        }

        await _node.WaitForExitAsync(CancellationToken.None);
        _node.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var folder = Path.Combine(dir.FullName, "tests", "TelnyxAiService.Tests", "Recordings", "s3rver");
            if (Directory.Exists(folder))
            {
                return folder;
            }
        }

        return "";
    }
}
