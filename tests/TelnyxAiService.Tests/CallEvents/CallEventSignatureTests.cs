using System.Text;
using Microsoft.Extensions.Configuration;
using TelnyxAiService.CallEvents;
using TelnyxAiService.Configuration;

namespace TelnyxAiService.Tests.CallEvents;

public sealed class CallEventSignatureTests
{
    [Fact]
    public void Sign_KnownInput_MatchesOpensslHmac()
    {
        var body = Encoding.UTF8.GetBytes("""{"id":"e1","type":"call.ended"}""");

        var header = CallEventSignature.Sign("test-secret-0123456789", 1_700_000_000, body);

        // printf '%s' '1700000000.{"id":"e1","type":"call.ended"}' | openssl dgst -sha256 -hmac 'test-secret-0123456789'
        Assert.Equal("t=1700000000,v1=3ba3e0ff8530972c8ac5d5e53ff1ae218f0aca9e8a975ed33c2b951d3ec21cd1", header);
    }

    [Fact]
    public void Sign_ReceiverRecipe_AcceptsItAndRefusesAnotherBodyOrSecret()
    {
        var body = Encoding.UTF8.GetBytes("""{"id":"e2"}""");
        var now = DateTimeOffset.UtcNow;
        var header = CallEventSignature.Sign(WebhookReceiver.Secret, now.ToUnixTimeSeconds(), body);

        Assert.True(WebhookReceiver.Verify(header, body, WebhookReceiver.Secret, now, out _));
        Assert.False(WebhookReceiver.Verify(header, Encoding.UTF8.GetBytes("""{"id":"e3"}"""), WebhookReceiver.Secret, now, out _));
        Assert.False(WebhookReceiver.Verify(header, body, "another-secret-0123456789", now, out _));
        Assert.False(WebhookReceiver.Verify(header, body, WebhookReceiver.Secret, now.AddMinutes(6), out _));
    }

    [Theory]
    [InlineData(null, null, true)]
    [InlineData("https://hooks.example.test/calls/", "0123456789abcdef", false)]
    public void Read_UrlAndSecret_EnabledOnlyWithUrl(string? url, string? secret, bool off)
    {
        var options = CallEventsOptions.Read(Reader(url, secret));

        Assert.Equal(off, !options.Enabled);
        Assert.Equal(url, options.Url?.OriginalString);
    }

    [Theory]
    [InlineData("hooks.example.test/calls", "0123456789abcdef", "CALL_EVENTS_URL: must be an absolute http or https URL")]
    [InlineData("ftp://hooks.example.test/calls", "0123456789abcdef", "CALL_EVENTS_URL: must be an absolute http or https URL")]
    [InlineData("https://hooks.example.test/calls", null, "CALL_EVENTS_SECRET: must be set, at least 16 characters")]
    [InlineData("https://hooks.example.test/calls", "short", "CALL_EVENTS_SECRET: must be set, at least 16 characters")]
    public void Read_BadUrlOrSecret_NamesTheVariable(string url, string? secret, string expected)
    {
        var error = Assert.Throws<InvalidSettingException>(() => CallEventsOptions.Read(Reader(url, secret)));
        Assert.StartsWith(expected, error.Message);
    }

    private static SettingsReader Reader(string? url, string? secret) => new(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["CALL_EVENTS_URL"] = url, ["CALL_EVENTS_SECRET"] = secret })
        .Build());
}
