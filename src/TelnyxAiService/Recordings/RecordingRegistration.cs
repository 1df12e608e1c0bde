using Amazon.S3;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Recordings;

public static class RecordingRegistration
{
    /// <summary>
    /// Registers <see cref="RecordingOptions"/> and the background <see cref="RecordingUploader"/>, with an S3 client
    /// (credentials from the AWS SDK's default chain) only when <c>S3_BUCKET</c> is set. With neither S3_BUCKET nor
    /// RECORDINGS_DIR the uploader creates no recorders and queues nothing.
    /// </summary>
    public static IServiceCollection AddRecordings(this IServiceCollection services)
    {
        services.AddSettings(RecordingOptions.Read);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<RecordingOptions>();
            return new RecordingUploader(
                options,
                options.Bucket is null ? null : new AmazonS3Client(options.S3Config()),
                sp.GetRequiredService<Telemetry.ServiceTelemetry>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<RecordingUploader>>());
        });
        services.AddHostedService(sp => sp.GetRequiredService<RecordingUploader>());
        return services;
    }
}
