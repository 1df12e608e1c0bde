using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.Telephony;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Hostile;

/// <summary>
/// Thousands of seeded hostile webhooks against the running service: recorded Telnyx events, correctly signed, with a
/// known field of the wrong type, unpaired surrogates, bytes that are not UTF-8, truncations, missing ids, and the same
/// events unsigned, signed by another key or stale. Every one is a 4xx, none is acted on (no Telnyx command), and the
/// service answers its health check and holds its memory after them. Odd but valid events are acknowledged 2xx.
/// </summary>
public sealed class HostileWebhookTests
{
    internal static readonly byte[] Seed = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly WebhookSigner Genuine = new(Seed);
    private static readonly WebhookSigner Stranger = new(null);

    private static readonly string[] Fixtures =
    [
        .. new[]
        {
            "webhook_call.answered.recorded.json", "webhook_call.initiated.recorded.json", "webhook_call.initiated.outbound.constructed.json",
            "webhook_call.dtmf.received.constructed.json", "webhook_call.transcription.apiref.json", "webhook_streaming.started.docs.json",
            "webhook_streaming.stopped.apiref.json", "webhook_call.playback.ended.constructed.json", "webhook_call.gather.ended.constructed.json",
        }.Select(name => Encoding.UTF8.GetString(TelnyxFixtures.Bytes(name))),
    ];

    private static readonly KnownField[] Fields =
    [
        new("data", FieldKind.Object), new("data.id", FieldKind.Text), new("data.event_type", FieldKind.Text),
        new("data.occurred_at", FieldKind.Text), new("data.payload", FieldKind.Object), new("data.payload.call_control_id", FieldKind.Text),
        new("data.payload.call_leg_id", FieldKind.Text), new("data.payload.call_session_id", FieldKind.Text),
        new("data.payload.client_state", FieldKind.Text), new("data.payload.direction", FieldKind.Text), new("data.payload.from", FieldKind.Text),
        new("data.payload.to", FieldKind.Text), new("data.payload.hangup_cause", FieldKind.Text), new("data.payload.digit", FieldKind.Text),
        new("data.payload.transcription_data", FieldKind.Object), new("data.payload.transcription_data.transcript", FieldKind.Text),
        new("data.payload.transcription_data.is_final", FieldKind.Flag), new("meta", FieldKind.Object), new("meta.attempt", FieldKind.Number),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A webhook that must be refused: its body, how it is signed, and the status it must get.</summary>
    public sealed record Hostile(string Kind, byte[] Body, WebhookSigner? Signer, long Skew, HttpStatusCode Expected)
    {
        public override string ToString() => $"{Kind} (signed: {Signer is not null}, skew {Skew}s): {Encoding.UTF8.GetString(Body[..Math.Min(Body.Length, 300)])}";
    }

    private static readonly Gen<string> Fixture = Gen.OneOf(Fixtures);

    internal static readonly Gen<Hostile> Refused = JsonMutation.Pick(
        (6, Fixture.SelectMany(f => Gen.OneOf(Fields).SelectMany(field => JsonMutation.WrongValue(field.Kind).Select(v =>
            new Hostile($"{field.Path} of the wrong type", JsonMutation.With(f, field.Path, v), Genuine, 0, HttpStatusCode.BadRequest))))),
        (1, Fixture.SelectMany(f => Gen.OneOf(@"\ud800", @"\udfff", @"a\udc00b", @"\ud83d").Select(e =>
            new Hostile("unpaired surrogate", JsonMutation.WithEscapeInFirstString(Encoding.UTF8.GetBytes(f), e), Genuine, 0, HttpStatusCode.BadRequest)))),
        (1, Fixture.SelectMany(f => JsonMutation.InvalidUtf8.Select(g =>
            new Hostile("not UTF-8", JsonMutation.WithInvalidUtf8(Encoding.UTF8.GetBytes(f), g), Genuine, 0, HttpStatusCode.BadRequest)))),
        (1, Fixture.SelectMany(f => Gen.Int[1, f.Length - 2].Select(n =>
            new Hostile("truncated", Encoding.UTF8.GetBytes(f[..n]), Genuine, 0, HttpStatusCode.BadRequest)))),
        (1, Fixture.SelectMany(f => Gen.OneOf("data.id", "data.event_type").Select(p =>
            new Hostile($"{p} missing", JsonMutation.With(f, p, null), Genuine, 0, HttpStatusCode.BadRequest)))),
        (1, Gen.Byte.Array[0, 512].Select(b => new Hostile("random bytes", b, Genuine, 0, HttpStatusCode.BadRequest))),
        (2, Fixture.SelectMany(f => JsonMutation.Pick(
            (1, Gen.Const(new Hostile("unsigned", Encoding.UTF8.GetBytes(f), null, 0, HttpStatusCode.Unauthorized))),
            (1, Gen.Const(new Hostile("signed by another key", Encoding.UTF8.GetBytes(f), Stranger, 0, HttpStatusCode.Unauthorized))),
            (1, Gen.Int[301, 100_000].Select(s => new Hostile("stale", Encoding.UTF8.GetBytes(f), Genuine, -s, HttpStatusCode.Unauthorized)))))));

    [Fact]
    public async Task RefusedWebhooks_All4xx_NoneActedOn_ServiceHealthy()
    {
        await using var harness = await StartAsync();
        var memoryBefore = HostileMemory.Managed();
        var commandsBefore = harness.Telnyx.Commands.Count;
        var sent = 0;
        await Check.SampleAsync(Refused, async hostile =>
        {
            var status = await PostAsync(harness.Client, hostile.Body, hostile.Signer, hostile.Skew);
            Interlocked.Increment(ref sent);
            Assert.True(status == hostile.Expected, $"{status} for {hostile}");
        }, iter: 4000, threads: 1, seed: "0N0XIzNsQ0O2");

        Assert.Equal(HttpStatusCode.OK, (await harness.Client.GetAsync("/api/health", Ct)).StatusCode);
        Assert.Equal(commandsBefore, harness.Telnyx.Commands.Count);
        Assert.True(sent >= 4000);
        Assert.InRange(HostileMemory.Managed() - memoryBefore, long.MinValue, 64L << 20);
    }

    private static readonly Gen<byte[]> Odd = JsonMutation.Pick(
        (3, Fixture.SelectMany(f => Gen.String[Gen.Char.AlphaNumeric, 1, 20].Select(s => JsonMutation.With(f, "data.payload.x_" + s, new JsonObject { ["nested"] = new JsonArray(1, "two") })))),
        (3, Fixture.SelectMany(f => Gen.String[Gen.Char.AlphaNumeric, 1, 20].Select(s => JsonMutation.With(f, "data.event_type", JsonValue.Create("call.future_" + s))))),
        (1, Fixture.SelectMany(f => Gen.String[Gen.Char.AlphaNumeric, 1, 20].Select(s => JsonMutation.With(f, "extra_" + s, JsonValue.Create(s))))));

    [Fact]
    public async Task OddButValidWebhooks_Acknowledged()
    {
        await using var harness = await StartAsync();
        await Check.SampleAsync(Odd, async body =>
        {
            var unique = JsonMutation.With(Encoding.UTF8.GetString(body), "data.id", JsonValue.Create(Guid.NewGuid().ToString()));
            var status = await PostAsync(harness.Client, unique, Genuine, 0);
            Assert.True((int)status is >= 200 and < 300, $"{status} for {Encoding.UTF8.GetString(unique)}");
        }, iter: 1000, threads: 1, seed: "0N0XIzNsQ0O2");
        Assert.Equal(HttpStatusCode.OK, (await harness.Client.GetAsync("/api/health", Ct)).StatusCode);
    }

    internal static async Task<HttpStatusCode> PostAsync(HttpClient client, byte[] body, WebhookSigner? signer, long skew)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/telnyx") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        if (signer is not null)
        {
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + skew;
            request.Headers.Add("telnyx-signature-ed25519", signer.Sign(timestamp, body));
            request.Headers.Add("telnyx-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        }

        using var response = await client.SendAsync(request, Ct);
        return response.StatusCode;
    }

    private static Task<ServiceHarness> StartAsync() => ServiceHarness.StartAsync(
        new HarnessOptions { MediaStreams = false, Telnyx = new TelnyxEmulatorOptions { SigningKeySeed = Seed } }, Ct);
}
