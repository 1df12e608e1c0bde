using Microsoft.Extensions.Configuration;
using TelnyxAiService.Configuration;
using TelnyxAiService.Recordings;

namespace TelnyxAiService.Tests.Recordings;

public sealed class RecordingOptionsTests
{
    [Fact]
    public void Read_NothingSet_RecordingIsOff()
    {
        var options = Read();

        Assert.False(options.Enabled);
        Assert.Equal(new RecordingOptions(null, "us-east-1", null, "calls/", null, TimeSpan.FromSeconds(960)), options);
        Assert.Equal("us-east-1", options.S3Config().RegionEndpoint.SystemName);
    }

    [Fact]
    public void Read_EverythingSet_UsesThePathStyleEndpoint()
    {
        var options = Read(
            ("S3_BUCKET", "my-calls.example"),
            ("AWS_REGION", "eu-west-3"),
            ("S3_ENDPOINT_URL", "http://127.0.0.1:9000/"),
            ("S3_PREFIX", "/tenant-a/"),
            ("RECORDINGS_DIR", "data/recordings"),
            ("MAX_CALL_SECONDS", "120"));

        Assert.True(options.Enabled);
        Assert.Equal(new RecordingOptions("my-calls.example", "eu-west-3", new Uri("http://127.0.0.1:9000"), "tenant-a/", Path.GetFullPath("data/recordings"), TimeSpan.FromSeconds(180)), options);
        var config = options.S3Config();
        Assert.StartsWith("http://127.0.0.1:9000", config.ServiceURL, StringComparison.Ordinal);
        Assert.True(config.ForcePathStyle);
        Assert.Equal("eu-west-3", config.AuthenticationRegion);
    }

    [Theory]
    [InlineData("S3_BUCKET", "My_Bucket")]
    [InlineData("S3_BUCKET", "ab")]
    [InlineData("AWS_REGION", "EU WEST")]
    [InlineData("S3_ENDPOINT_URL", "ftp://storage.local")]
    [InlineData("MAX_CALL_SECONDS", "forever")]
    public void Read_MalformedValue_NamesTheSetting(string name, string value)
    {
        var error = Assert.Throws<InvalidSettingException>(() => Read((name, value)));

        Assert.Equal(name, error.Name);
    }

    private static RecordingOptions Read(params (string Key, string Value)[] settings) =>
        RecordingOptions.Read(new SettingsReader(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build()));
}
