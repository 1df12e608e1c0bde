using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using TelnyxAiService.Audio;
using TelnyxAiService.Background;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Recordings;

/// <summary>Where a call's recording is kept: a local file, an S3 object (with a GET URL valid for an hour), or both.</summary>
public sealed record RecordingLocation(string CallId, string? LocalPath, string? S3Key, Uri? DownloadUrl);

/// <summary>A saved recording opened for reading: the WAV's bytes (a file, or S3's response body) and how many there are.</summary>
public sealed record RecordingContent(Stream Body, long Length);

/// <summary>
/// Saves call recordings in the background after hangup, so a call never waits for (or fails on) storage. Each queued
/// recording is written as a stereo WAV (to <c>RECORDINGS_DIR</c> when set, else to a temporary file), then uploaded
/// to S3 when <c>S3_BUCKET</c> is set (the S3 client retries, <see cref="RecordingOptions.S3Config"/>), and otherwise
/// given up with a log line (call id, size, duration, key; nothing said on the call). When neither is set, no recorder
/// is created and nothing is queued. On stop the queue is drained until the host's shutdown timeout.
/// </summary>
public sealed partial class RecordingUploader(RecordingOptions options, IAmazonS3? s3, Telemetry.ServiceTelemetry telemetry, TimeProvider time, ILogger<RecordingUploader> logger)
    : IHostedService, IAsyncDisposable
{
    /// <summary>Recordings waiting to be saved before <see cref="TryEnqueue"/> turns more away.</summary>
    public const int Capacity = 64;

    private readonly BackgroundQueue _queue = new(Capacity);

    public bool Enabled => options.Enabled;

    /// <summary>A recorder for a call whose media stream just started in <paramref name="format"/>; null when recording is off.</summary>
    public CallRecorder? CreateRecorder(AudioFormat format) =>
        Enabled ? new CallRecorder(format, options.MaxDuration, time) : null;

    /// <summary>
    /// Queues a finished call's recording (after both media loops have ended). Never waits: false when recording is off,
    /// the uploader has stopped, or the queue is full (then the recording is dropped with a warning).
    /// </summary>
    public bool TryEnqueue(string callId, CallRecorder recorder)
    {
        if (!Enabled)
        {
            return false;
        }

        var name = SafeName(callId);
        if (_queue.TryEnqueue(cancellationToken => SaveAsync(name, recorder, cancellationToken)))
        {
            return true;
        }

        LogDropped(logger, name, Capacity);
        return false;
    }

    /// <summary>Where the call's recording is, once it has been saved; null when there is none (yet).</summary>
    /// <exception cref="ProviderException">S3 could not be asked.</exception>
    public async Task<RecordingLocation?> FindAsync(string callId, CancellationToken cancellationToken)
    {
        var name = SafeName(callId);
        var local = LocalPath(name) is { } path && File.Exists(path) ? path : null;
        string? key = null;
        Uri? url = null;
        if (s3 is not null)
        {
            try
            {
                await s3.GetObjectMetadataAsync(options.Bucket, Key(name), cancellationToken);
                key = Key(name);
                url = new Uri(await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
                {
                    BucketName = options.Bucket,
                    Key = key,
                    Verb = HttpVerb.GET,
                    Expires = time.GetUtcNow().UtcDateTime.AddHours(1),
                    Protocol = options.EndpointUrl?.Scheme == "http" ? Protocol.HTTP : Protocol.HTTPS,
                }));
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
            }
            catch (Exception e) when (IsS3Failure(e))
            {
                throw S3Failed($"looking up the recording of call {name}", e);
            }
        }

        return local is null && key is null ? null : new RecordingLocation(name, local, key, url);
    }

    /// <summary>
    /// The call's WAV for reading, from the local file when there is one, else from S3; null when there is none (yet).
    /// The caller disposes <see cref="RecordingContent.Body"/>.
    /// </summary>
    /// <exception cref="ProviderException">S3 could not be asked.</exception>
    public async Task<RecordingContent?> OpenAsync(string callId, CancellationToken cancellationToken)
    {
        var name = SafeName(callId);
        if (LocalPath(name) is { } path && File.Exists(path))
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
            return new RecordingContent(file, file.Length);
        }

        if (s3 is null)
        {
            return null;
        }

        try
        {
            var found = await s3.GetObjectAsync(options.Bucket, Key(name), cancellationToken);
            return new RecordingContent(found.ResponseStream, found.Headers.ContentLength);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (IsS3Failure(e))
        {
            throw S3Failed($"fetching the recording of call {name}", e);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _queue.Start();
        return Task.CompletedTask;
    }

    /// <summary>Stops taking recordings and saves the queued ones; when <paramref name="cancellationToken"/> fires, gives up on the rest.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _queue.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _queue.DisposeAsync();
        s3?.Dispose();
    }

    /// <summary>Call ids are GUIDs; anything else is made safe for a file name and an S3 key.</summary>
    private static string SafeName(string callId) =>
        string.Concat(callId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    private string Key(string name) => $"{options.Prefix}{name}.wav";

    private static bool IsS3Failure(Exception e) => e is AmazonClientException or HttpRequestException or IOException;

    /// <summary>Counts a failed read from S3 and says what failed, as the retryable error the API answers 503 for.</summary>
    private ProviderException S3Failed(string what, Exception e)
    {
        telemetry.ProviderFailed("s3");
        return new ProviderException("S3", $"{what} failed: {e.Message}", retryable: true, e);
    }

    private string? LocalPath(string name) => options.Directory is { } directory ? Path.Combine(directory, $"{name}.wav") : null;

    /// <summary>Writes the WAV and uploads it; logs, never throws.</summary>
    private async Task SaveAsync(string name, CallRecorder recorder, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            LogNotSaved(logger, name, "the service stopped first");
            return;
        }

        if (recorder.WavBytes == StereoWav.HeaderBytes)
        {
            LogNotSaved(logger, name, "no audio was recorded");
            return;
        }

        if (recorder.Truncated)
        {
            LogTruncated(logger, name, recorder.Duration.TotalSeconds);
        }

        var local = LocalPath(name);
        var file = local ?? Path.Combine(Path.GetTempPath(), $"recording-{name}-{Guid.NewGuid():N}.wav");
        try
        {
            await WriteFileAsync(recorder, file, cancellationToken);
            if (local is not null)
            {
                LogKeptLocally(logger, name, recorder.WavBytes, recorder.Duration.TotalSeconds, local);
            }

            if (s3 is not null)
            {
                await UploadAsync(name, file, recorder, cancellationToken);
            }
        }
        catch (Exception e)
        {
            LogFailed(logger, name, e);
        }
        finally
        {
            if (local is null)
            {
                File.Delete(file);
            }
        }
    }

    private static async Task WriteFileAsync(CallRecorder recorder, string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var partial = $"{path}.part";
        await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            await recorder.WriteWavAsync(stream, cancellationToken);
        }

        File.Move(partial, path, overwrite: true);
    }

    private async Task UploadAsync(string name, string file, CallRecorder recorder, CancellationToken cancellationToken)
    {
        var key = Key(name);
        try
        {
            await using var body = File.OpenRead(file);
            await s3!.PutObjectAsync(
                new PutObjectRequest
                {
                    BucketName = options.Bucket,
                    Key = key,
                    InputStream = body,
                    ContentType = "audio/wav",
                    UseChunkEncoding = false,
                },
                cancellationToken);
            LogUploaded(logger, name, recorder.WavBytes, recorder.Duration.TotalSeconds, key);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogNotSaved(logger, name, "the service stopped during the upload");
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            telemetry.ProviderFailed("s3");
            LogUploadFailed(logger, name, key, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId}: recording kept locally ({Bytes} bytes, {Seconds:0.0} s) at {Path}")]
    private static partial void LogKeptLocally(ILogger logger, string callId, long bytes, double seconds, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId}: recording uploaded ({Bytes} bytes, {Seconds:0.0} s) to {Key}")]
    private static partial void LogUploaded(ILogger logger, string callId, long bytes, double seconds, string key);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId}: the recording was not uploaded to {Key}, retries included")]
    private static partial void LogUploadFailed(ILogger logger, string callId, string key, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId}: saving the recording failed")]
    private static partial void LogFailed(ILogger logger, string callId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: recording not saved: {Reason}")]
    private static partial void LogNotSaved(ILogger logger, string callId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: recording dropped: the service is stopping or {Capacity} recordings are already waiting")]
    private static partial void LogDropped(ILogger logger, string callId, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: the recording stops at the {Seconds:0} s limit")]
    private static partial void LogTruncated(ILogger logger, string callId, double seconds);
}
