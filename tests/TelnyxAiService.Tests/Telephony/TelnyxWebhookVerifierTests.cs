using System.Text;
using Microsoft.AspNetCore.Http;
using TelnyxAiService.Telephony.Telnyx;

namespace TelnyxAiService.Tests.Telephony;

public sealed class TelnyxWebhookVerifierTests
{
    private const string PublicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    private const string Signature = "zZk8Xo//Ym/0HzEEyuXURwWs/FOE/z7Bex9V/OJsasJVJJoN4HPsfZLSr4wJuiY1QVwAgf0HANZngO5guQ0XDQ==";
    private const long SignedAt = 1763868601;

    private static readonly byte[] Body = TelnyxFixtures.Bytes("signature_test_vector.body.bin");

    private static TelnyxWebhookVerifier Verifier(long nowSeconds = SignedAt, string key = PublicKey) =>
        new(Convert.FromBase64String(key), FixedTimeProvider.AtUnixSeconds(nowSeconds));

    [Fact]
    public void Verify_FixtureVector_IsValid()
    {
        Assert.Equal(WebhookVerification.Valid, Verifier().Verify(Signature, "1763868601", Body));
    }

    [Fact]
    public void Verify_HeadersInAnyCase_AreFound()
    {
        var headers = new HeaderDictionary
        {
            ["Telnyx-Signature-Ed25519"] = Signature,
            ["TELNYX-TIMESTAMP"] = "1763868601",
        };

        Assert.Equal(WebhookVerification.Valid, Verifier().Verify(headers, Body));
    }

    [Fact]
    public void Verify_TamperedBody_IsBadSignature()
    {
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Body).Replace("call.answered", "call.hangup__", StringComparison.Ordinal));

        Assert.Equal(WebhookVerification.BadSignature, Verifier().Verify(Signature, "1763868601", tampered));
    }

    [Fact]
    public void Verify_BodyWithTrailingNewline_IsBadSignature()
    {
        Assert.Equal(WebhookVerification.BadSignature, Verifier().Verify(Signature, "1763868601", [.. Body, (byte)'\n']));
    }

    [Fact]
    public void Verify_OtherTimestampWithinTolerance_IsBadSignature()
    {
        Assert.Equal(WebhookVerification.BadSignature, Verifier().Verify(Signature, "1763868602", Body));
    }

    [Fact]
    public void Verify_WrongKey_IsBadSignature()
    {
        var otherKey = Convert.ToBase64String(new Org.BouncyCastle.Crypto.Parameters.Ed25519PrivateKeyParameters(new byte[32], 0).GeneratePublicKey().GetEncoded());

        Assert.Equal(WebhookVerification.BadSignature, Verifier(key: otherKey).Verify(Signature, "1763868601", Body));
    }

    [Theory]
    [InlineData(SignedAt + 300, WebhookVerification.Valid)]
    [InlineData(SignedAt + 301, WebhookVerification.StaleTimestamp)]
    [InlineData(SignedAt - 300, WebhookVerification.Valid)]
    [InlineData(SignedAt - 301, WebhookVerification.StaleTimestamp)]
    public void Verify_ClockAwayFromTimestamp_AllowsFiveMinutesEitherWay(long now, WebhookVerification expected)
    {
        Assert.Equal(expected, Verifier(now).Verify(Signature, "1763868601", Body));
    }

    [Theory]
    [InlineData(null, "1763868601", WebhookVerification.MissingHeaders)]
    [InlineData(Signature, null, WebhookVerification.MissingHeaders)]
    [InlineData("", "", WebhookVerification.MissingHeaders)]
    [InlineData("not base64!", "1763868601", WebhookVerification.Malformed)]
    [InlineData("AAAA", "1763868601", WebhookVerification.Malformed)]
    [InlineData(Signature, "yesterday", WebhookVerification.Malformed)]
    [InlineData(Signature, "-1763868601", WebhookVerification.Malformed)]
    public void Verify_MissingOrGarbageHeaders_Fails(string? signature, string? timestamp, WebhookVerification expected)
    {
        Assert.Equal(expected, Verifier().Verify(signature, timestamp, Body));
    }
}
