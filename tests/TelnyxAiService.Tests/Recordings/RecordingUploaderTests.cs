using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TelnyxAiService.Audio;
using TelnyxAiService.Configuration;
using TelnyxAiService.Providers;
using TelnyxAiService.Recordings;
using TelnyxAiService.Tests.Audio;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Recordings;

public sealed class RecordingUploaderTests
{
    private const string Bucket = "recordings";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Upload_ToS3CompatibleStore_StoresTheWavUnderThePrefix()
    {
        await using var s3rver = await S3rverProcess.StartAsync(Bucket, Ct);
        var options = Options(("S3_BUCKET", Bucket), ("S3_ENDPOINT_URL", s3rver.Endpoint.ToString()));
        var logger = new ListLogger<RecordingUploader>();
        await using var uploader = new RecordingUploader(options, S3rverProcess.Client(options), TestTelemetry.Instance, TimeProvider.System, logger);
        await uploader.StartAsync(Ct);

        var recorder = Record(uploader);
        Assert.True(uploader.TryEnqueue("call-1", recorder));
        await uploader.StopAsync(Ct);

        var expected = await WavAsync(recorder);
        using var s3 = S3rverProcess.Client(options);
        using var stored = await s3.GetObjectAsync(Bucket, "calls/call-1.wav", Ct);
        using var body = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(body, Ct);
        Assert.Equal(expected, body.ToArray());
        Assert.Equal("audio/wav", stored.Headers.ContentType);

        var location = await uploader.FindAsync("call-1", Ct);
        Assert.NotNull(location);
        Assert.Equal("calls/call-1.wav", location.S3Key);
        Assert.Null(location.LocalPath);
        using var http = new HttpClient();
        Assert.Equal(expected, await http.GetByteArrayAsync(location.DownloadUrl, Ct));
        Assert.Null(await uploader.FindAsync("call-2", Ct));
        await AssertContentAsync(expected, await uploader.OpenAsync("call-1", Ct));
        Assert.Null(await uploader.OpenAsync("call-2", Ct));

        var uploaded = Assert.Single(logger.Entries, e => e.Level == LogLevel.Information);
        Assert.Equal($"Call call-1: recording uploaded ({expected.Length} bytes, 1.0 s) to calls/call-1.wav", uploaded.Message);
        Assert.Equal(0, TemporaryFiles("call-1"));
    }

    [Fact]
    public async Task Upload_S3Unreachable_GivesUpWithoutThrowing()
    {
        using var closed = new ClosedPort();
        var options = Options(("S3_BUCKET", Bucket), ("S3_ENDPOINT_URL", $"http://127.0.0.1:{closed.Port}"));
        var logger = new ListLogger<RecordingUploader>();
        await using var uploader = new RecordingUploader(options, S3rverProcess.Client(options), TestTelemetry.Instance, TimeProvider.System, logger);
        await uploader.StartAsync(Ct);

        Assert.True(uploader.TryEnqueue("call-9", Record(uploader)));
        await uploader.StopAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        var gaveUp = Assert.Single(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal("Call call-9: the recording was not uploaded to calls/call-9.wav, retries included", gaveUp.Message);
        Assert.Equal(0, TemporaryFiles("call-9"));
        var lookup = await Assert.ThrowsAsync<ProviderException>(() => uploader.FindAsync("call-9", Ct));
        Assert.True(lookup.Retryable);
        Assert.True((await Assert.ThrowsAsync<ProviderException>(() => uploader.OpenAsync("call-9", Ct))).Retryable);
    }

    [Fact]
    public async Task Upload_S3Answers503_TheS3ClientRetriesTheUpload()
    {
        await using var s3 = await FailingS3.StartAsync(Ct);
        var options = Options(("S3_BUCKET", Bucket), ("S3_ENDPOINT_URL", s3.Endpoint.ToString()));
        var logger = new ListLogger<RecordingUploader>();
        await using var uploader = new RecordingUploader(options, S3rverProcess.Client(options), TestTelemetry.Instance, TimeProvider.System, logger);
        await uploader.StartAsync(Ct);

        var recorder = Record(uploader);
        Assert.True(uploader.TryEnqueue("call-3", recorder));
        await uploader.StopAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Equal(RecordingOptions.S3MaxAttempts, s3.Puts.Count);
        Assert.All(s3.Puts, put => Assert.Equal(("/recordings/calls/call-3.wav", recorder.WavBytes), put));
        Assert.Equal("Call call-3: the recording was not uploaded to calls/call-3.wav, retries included", Assert.Single(logger.Entries, e => e.Level == LogLevel.Error).Message);
    }

    [Fact]
    public async Task Save_RecordingsDirOnly_KeepsTheWavLocally()
    {
        var directory = Directory.CreateTempSubdirectory("recordings-").FullName;
        try
        {
            var options = Options(("RECORDINGS_DIR", directory));
            await using var uploader = new RecordingUploader(options, null, TestTelemetry.Instance, TimeProvider.System, new ListLogger<RecordingUploader>());
            await uploader.StartAsync(Ct);

            var recorder = Record(uploader);
            Assert.True(uploader.TryEnqueue("call/../7", recorder));
            await uploader.StopAsync(Ct);

            var path = Path.Combine(directory, "call_.._7.wav");
            Assert.Equal([path], Directory.GetFiles(directory));
            Assert.Equal(await WavAsync(recorder), await File.ReadAllBytesAsync(path, Ct));
            Assert.Equal(new RecordingLocation("call_.._7", path, null, null), await uploader.FindAsync("call/../7", Ct));
            var expected = await File.ReadAllBytesAsync(path, Ct);
            await AssertContentAsync(expected, await uploader.OpenAsync("call/../7", Ct));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Uploader_NeitherS3NorDirectory_RecordsNothing()
    {
        await using var uploader = new RecordingUploader(Options(), null, TestTelemetry.Instance, TimeProvider.System, new ListLogger<RecordingUploader>());
        await uploader.StartAsync(Ct);

        Assert.False(uploader.Enabled);
        Assert.Null(uploader.CreateRecorder(AudioFormat.Pcmu8k));
        Assert.False(uploader.TryEnqueue("call-1", new CallRecorder(AudioFormat.Pcmu8k, TimeSpan.FromSeconds(10), TimeProvider.System)));
        Assert.Null(await uploader.FindAsync("call-1", Ct));
        Assert.Null(await uploader.OpenAsync("call-1", Ct));
    }

    [Fact]
    public async Task AddRecordings_S3BucketSet_ResolvesAnEnabledUploaderWithoutNetwork()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(TimeProvider.System)
            .AddSingleton(TestTelemetry.Instance)
            .AddSingleton(new SettingsReader(Configuration(("S3_BUCKET", Bucket), ("S3_ENDPOINT_URL", "http://127.0.0.1:9"))))
            .AddRecordings();
        await using var provider = services.BuildServiceProvider();

        var uploader = provider.GetRequiredService<RecordingUploader>();

        Assert.True(uploader.Enabled);
        Assert.Same(uploader, provider.GetServices<IHostedService>().Single());
    }

    /// <summary>A call's worth of audio: one second of caller tone, then half a second of agent tone.</summary>
    private static CallRecorder Record(RecordingUploader uploader)
    {
        var recorder = uploader.CreateRecorder(AudioFormat.Pcmu8k)!;
        var caller = AudioTestSignals.Encode(AudioTestSignals.Tone(440, 8000, TimeSpan.FromSeconds(1)), AudioEncoding.Pcmu);
        var agent = AudioTestSignals.Encode(AudioTestSignals.Tone(700, 8000, TimeSpan.FromSeconds(0.5)), AudioEncoding.Pcmu);
        for (var offset = 0; offset < caller.Length; offset += 160)
        {
            recorder.RecordCaller(new AudioFrame(AudioFormat.Pcmu8k, caller.AsMemory(offset, 160)));
        }

        for (var offset = 0; offset < agent.Length; offset += 160)
        {
            recorder.RecordAgent(new AudioFrame(AudioFormat.Pcmu8k, agent.AsMemory(offset, 160)));
        }

        return recorder;
    }

    private static async Task<byte[]> WavAsync(CallRecorder recorder)
    {
        using var stream = new MemoryStream();
        await recorder.WriteWavAsync(stream, Ct);
        return stream.ToArray();
    }

    /// <summary>An opened recording announces the length of <paramref name="expected"/> and reads as its bytes.</summary>
    private static async Task AssertContentAsync(byte[] expected, RecordingContent? content)
    {
        Assert.NotNull(content);
        await using var body = content.Body;
        using var copy = new MemoryStream();
        await body.CopyToAsync(copy, Ct);
        Assert.Equal(expected.Length, content.Length);
        Assert.Equal(expected, copy.ToArray());
    }

    private static int TemporaryFiles(string callId) => Directory.GetFiles(Path.GetTempPath(), $"recording-{callId}-*").Length;

    private static RecordingOptions Options(params (string Key, string Value)[] settings) =>
        RecordingOptions.Read(new SettingsReader(Configuration(settings)));

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();

    /// <summary>An S3 endpoint that is always busy: it reads every PUT (path and body size) and answers 503 SlowDown.</summary>
    private sealed class FailingS3 : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, long Bytes)> _puts = new();

        private FailingS3(WebApplication app) => _app = app;

        public Uri Endpoint => new(_app.Urls.Single());

        public IReadOnlyList<(string Path, long Bytes)> Puts => [.. _puts];

        public static async Task<FailingS3> StartAsync(CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var s3 = new FailingS3(app);
            app.Run(async http =>
            {
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body, http.RequestAborted);
                s3._puts.Enqueue((http.Request.Path.Value ?? "", body.Length));
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                http.Response.ContentType = "application/xml";
                await http.Response.WriteAsync("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>", http.RequestAborted);
            });
            await app.StartAsync(cancellationToken);
            return s3;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
