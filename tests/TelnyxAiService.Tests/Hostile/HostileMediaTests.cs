using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using TelnyxAiService.Tests.Telephony;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Hostile;

/// <summary>
/// Thousands of seeded hostile frames on a live call's media stream, sent by a peer that holds the call's token:
/// recorded Telnyx frames with a known field of the wrong type, payloads that are not base64, unpaired surrogates,
/// unknown events, repeated and out-of-order sequence numbers, random text and binary frames under the size limit.
/// The stream stays open, the call stays live (no hangup, no end), and the service stays healthy.
/// </summary>
public sealed class HostileMediaTests
{
    private static readonly string[] Fixtures =
    [
        .. new[]
        {
            "ws_media_telnyx_to_client.constructed.json", "ws_mark_telnyx_to_client.docs.json", "ws_dtmf.docs.json", "ws_error.constructed_from_docs_schema.json",
            "ws_connected.docs.json", "ws_start.docs.json",
        }.Select(name => JsonNode.Parse(TelnyxFixtures.Bytes(name))!.ToJsonString()),
    ];

    private static readonly KnownField[] Fields =
    [
        new("event", FieldKind.Text), new("sequence_number", FieldKind.Number), new("stream_id", FieldKind.Text), new("media", FieldKind.Object),
        new("media.payload", FieldKind.Text), new("media.track", FieldKind.Text), new("media.chunk", FieldKind.Number), new("media.timestamp", FieldKind.Number),
        new("mark", FieldKind.Object), new("mark.name", FieldKind.Text), new("dtmf", FieldKind.Object), new("dtmf.digit", FieldKind.Text),
        new("start", FieldKind.Object), new("start.media_format", FieldKind.Object), new("start.media_format.sample_rate", FieldKind.Number),
        new("payload", FieldKind.Object), new("payload.code", FieldKind.Number),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Gen<string> Fixture = Gen.OneOf(Fixtures);

    private static readonly Gen<(WebSocketMessageType Type, byte[] Frame)> Frames = JsonMutation.Pick(
        (6, Fixture.SelectMany(f => Gen.OneOf(Fields).SelectMany(field => JsonMutation.WrongValue(field.Kind).Select(v => Text(JsonMutation.With(f, field.Path, v)))))),
        (2, Gen.String[Gen.Char, 1, 40].Select(p => Text(JsonMutation.With(Fixtures[0], "media.payload", JsonValue.Create("!" + p))))),
        (2, Gen.Long[-5, 1_000_000].Select(n => Text(JsonMutation.With(Fixtures[0], "sequence_number", JsonValue.Create(n.ToString(System.Globalization.CultureInfo.InvariantCulture)))))),
        (1, Fixture.SelectMany(f => Gen.OneOf(@"\ud800", @"\udfff", @"x\udc00").Select(e => Text(JsonMutation.WithEscapeInFirstString(Encoding.UTF8.GetBytes(f), e))))),
        (1, Gen.String[Gen.Char.AlphaNumeric, 1, 30].Select(e => Text(JsonMutation.With(Fixtures[0], "event", JsonValue.Create("future_" + e))))),
        (1, Gen.String[Gen.Char, 0, 300].Select(t => Text(Encoding.UTF8.GetBytes(t)))),
        (1, Gen.Int[2, 60].Select(k => Text(Encoding.UTF8.GetBytes($$$"""{"event":"media","media":{"payload":"{{{new string('A', k << 10)}}}"}}""")))),
        (1, Gen.Byte.Array[0, 300].Select(b => (WebSocketMessageType.Binary, b))));

    [Fact]
    public async Task HostileFrames_StreamAndCallSurvive()
    {
        await using var harness = await ServiceHarness.StartAsync(new HarnessOptions { Settings = new() { ["IDLE_TIMEOUT_SECONDS"] = "600" } }, Ct);
        var response = await harness.Client.PostAsJsonAsync("/api/call/initiate", new { telefono = "+34600111222", nombre = "Ana" }, Ct);
        var callControlId = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("call_control_id").GetString()!;
        var dial = await harness.Telnyx.WaitForCommandAsync(c => c.Action == "dial" && c.CallControlId == callControlId, TimeSpan.FromSeconds(10), Ct);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(dial.Body.GetProperty("stream_url").GetString()!), Ct);
        var draining = DrainAsync(socket);
        await socket.SendAsync(JsonMutation.With(Fixtures[5], "start.call_control_id", JsonValue.Create(callControlId)), WebSocketMessageType.Text, true, Ct);
        var memoryBefore = HostileMemory.Managed();

        await Check.SampleAsync(Frames, async frame =>
        {
            await socket.SendAsync(frame.Frame, frame.Type, true, Ct);
            Assert.Equal(WebSocketState.Open, socket.State);
        }, iter: 3000, threads: 1, seed: "0N0XIzNsQ0O2");

        Assert.Equal(HttpStatusCode.OK, (await harness.Client.GetAsync("/api/health", Ct)).StatusCode);
        var stats = await harness.Client.GetFromJsonAsync<JsonElement>("/api/sessions/stats", Ct);
        Assert.Equal(1, stats.GetProperty("active_sessions").GetInt32());
        Assert.False(draining.IsCompleted, "the service closed the stream");
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action is "hangup" or "transfer");
        Assert.InRange(HostileMemory.Managed() - memoryBefore, long.MinValue, 64L << 20);
    }

    private static (WebSocketMessageType, byte[]) Text(byte[] json) => (WebSocketMessageType.Text, json);

    private static async Task DrainAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        while ((await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
        {
        }
    }
}
