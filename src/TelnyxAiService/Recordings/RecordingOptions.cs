using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Recordings;

/// <summary>
/// Where call recordings go. Off unless <c>S3_BUCKET</c> or <c>RECORDINGS_DIR</c> is set.
/// <c>S3_BUCKET</c>: upload each call's WAV to this bucket as <c>{S3_PREFIX}{callId}.wav</c> (<c>S3_PREFIX</c> default
/// <c>calls/</c>; <c>/</c> for none) in <c>AWS_REGION</c> (default us-east-1), or to the S3-compatible store at <c>S3_ENDPOINT_URL</c>
/// (path-style). Credentials come from the AWS SDK's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile,
/// instance role). <c>RECORDINGS_DIR</c>: also keep the WAVs in this local directory. <c>MAX_CALL_SECONDS</c> (default
/// 900) bounds how much audio a call's recorder keeps, with a minute to spare for the goodbye.
/// </summary>
public sealed record RecordingOptions(string? Bucket, string Region, Uri? EndpointUrl, string Prefix, string? Directory, TimeSpan MaxDuration)
{
    public static RecordingOptions Read(SettingsReader settings)
    {
        var bucket = settings.Optional("S3_BUCKET");
        if (bucket is not null && !IsBucketName(bucket))
        {
            throw new InvalidSettingException("S3_BUCKET", $"must be an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens), got '{bucket}'");
        }

        var region = settings.Text("AWS_REGION", "us-east-1");
        if (!region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw new InvalidSettingException("AWS_REGION", $"must be a region name such as us-east-1, got '{region}'");
        }

        var directory = settings.Optional("RECORDINGS_DIR");
        return new RecordingOptions(
            bucket,
            region,
            settings.Url("S3_ENDPOINT_URL", null, "http", "https"),
            settings.Text("S3_PREFIX", "calls/").TrimStart('/'),
            directory is null ? null : Path.GetFullPath(directory),
            settings.MaxCallDuration() + TimeSpan.FromMinutes(1));
    }

    /// <summary>Whether calls are recorded at all.</summary>
    public bool Enabled => Bucket is not null || Directory is not null;

    /// <summary>Attempts the S3 client makes at one request, retries included.</summary>
    public const int S3MaxAttempts = 4;

    /// <summary>
    /// The S3 client settings: the region's AWS endpoint, or <see cref="EndpointUrl"/> path-style. The SDK retries
    /// throttling, 5xx and connection failures itself (standard mode: jittered exponential backoff), each attempt
    /// within our timeout.
    /// </summary>
    public AmazonS3Config S3Config()
    {
        var config = new AmazonS3Config
        {
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = S3MaxAttempts - 1,
            Timeout = TimeSpan.FromMinutes(2),
        };
        if (EndpointUrl is null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(Region);
        }
        else
        {
            config.ServiceURL = EndpointUrl.ToString();
            config.ForcePathStyle = true;
            config.AuthenticationRegion = Region;
        }

        return config;
    }

    private static bool IsBucketName(string name) =>
        name.Length is >= 3 and <= 63
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
        && char.IsAsciiLetterOrDigit(name[0])
        && char.IsAsciiLetterOrDigit(name[^1]);
}
