using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Hostile;

/// <summary>
/// Thousands of seeded invalid API requests (initiate and batch): a known field of the wrong type, numbers that are not
/// E.164 or are premium-rate, unpaired surrogates, bytes that are not UTF-8, truncated or deeply nested JSON, other
/// content types, oversized bodies. Each gets a 4xx and no call is dialled; the service stays healthy.
/// </summary>
public sealed class HostileApiTests
{
    private const string Initiate = """{"telefono":"+34600111222","nombre":"Ana","contexto":"cita el lunes","saludo":"Hola Ana"}""";
    private const string Batch = """{"calls":[{"telefono":"+34600111222","nombre":"Ana"},{"phone":"+34600111333","name":"Luis","context":"x","greeting":"Hi"}]}""";

    private static readonly KnownField[] InitiateFields =
    [
        new("telefono", FieldKind.Text), new("nombre", FieldKind.Text), new("contexto", FieldKind.Text), new("saludo", FieldKind.Text),
        new("phone", FieldKind.Text), new("name", FieldKind.Text), new("context", FieldKind.Text), new("greeting", FieldKind.Text),
    ];

    private static readonly KnownField[] BatchFields =
    [
        new("calls", FieldKind.List), new("calls.0", FieldKind.Object), new("calls.1", FieldKind.Object), new("calls.0.telefono", FieldKind.Text),
        new("calls.1.phone", FieldKind.Text), new("calls.0.nombre", FieldKind.Text), new("calls.1.context", FieldKind.Text), new("calls.1.greeting", FieldKind.Text),
    ];

    private static readonly Gen<string> NotDialable = JsonMutation.Pick(
        (2, Gen.String[Gen.Char, 0, 20]),
        (1, Gen.Long[0, 99_999_999_999].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.OneOf("+19005550100", "+34806123456", "+449012345678", "+97912345678", "+881234567890", "+0034600111222", "+1234567", "+12345678901234567")));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A request that must be refused.</summary>
    public sealed record Hostile(string Kind, string Path, string ContentType, byte[] Body)
    {
        public override string ToString() => $"{Kind} {Path} ({ContentType}): {Encoding.UTF8.GetString(Body[..Math.Min(Body.Length, 300)])}";
    }

    private static Gen<Hostile> For(string path, string valid, KnownField[] fields, string phoneField, int limit) => JsonMutation.Pick(
        (5, Gen.OneOf(fields).SelectMany(field => JsonMutation.WrongValue(field.Kind).Select(v =>
            new Hostile($"{field.Path} of the wrong type", path, "application/json", JsonMutation.With(valid, field.Path, v))))),
        (3, NotDialable.Select(phone => new Hostile("not a dialable number", path, "application/json", JsonMutation.With(valid, phoneField, JsonValue.Create(phone))))),
        (1, Gen.OneOf(@"\ud800", @"\udfff", @"x\udc00").Select(e =>
            new Hostile("unpaired surrogate", path, "application/json", JsonMutation.WithEscapeInFirstString(Encoding.UTF8.GetBytes(valid), e)))),
        (1, JsonMutation.InvalidUtf8.Select(g => new Hostile("not UTF-8", path, "application/json", JsonMutation.WithInvalidUtf8(Encoding.UTF8.GetBytes(valid), g)))),
        (1, Gen.Int[0, valid.Length - 1].Select(n => new Hostile("truncated", path, "application/json", Encoding.UTF8.GetBytes(valid[..n])))),
        (1, Gen.Int[65, 2000].Select(n => new Hostile("nested", path, "application/json", Encoding.UTF8.GetBytes(new string('[', n) + new string(']', n))))),
        (1, Gen.OneOf("null", "[]", "7", "\"x\"", "true", "{}").Select(b => new Hostile("not an object of calls", path, "application/json", Encoding.UTF8.GetBytes(b)))),
        (1, Gen.OneOf("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml").Select(t =>
            new Hostile("not JSON", path, t, Encoding.UTF8.GetBytes(valid)))),
        (1, Gen.Byte.Array[0, 300].Select(b => new Hostile("random bytes", path, "application/json", b))),
        (1, Gen.Int[1, 64].Select(n => new Hostile("oversized", path, "application/json", Encoding.UTF8.GetBytes(valid[..^1] + $",\"pad\":\"{new string('x', limit + (n << 10))}\"}}")))));

    internal static readonly Gen<Hostile> Requests = JsonMutation.Pick(
        (1, For("/api/call/initiate", Initiate, InitiateFields, "telefono", 16 << 10)),
        (1, For("/api/call/batch", Batch, BatchFields, "calls.1.telefono", 1 << 20)));

    [Fact]
    public async Task InvalidRequests_All4xx_NothingDialled_ServiceHealthy()
    {
        await using var harness = await ServiceHarness.StartAsync(
            new HarnessOptions { MediaStreams = false, Telnyx = new TelnyxEmulatorOptions { Callee = new CalleeScript { AnswerAfter = TimeSpan.FromMinutes(1) } } }, Ct);
        var memoryBefore = HostileMemory.Managed();
        await Check.SampleAsync(Requests, async hostile =>
        {
            var status = await SendAsync(harness.Client, hostile);
            Assert.True((int)status is >= 400 and < 500, $"{status} for {hostile}");
        }, iter: 4000, threads: 1, seed: "0N0XIzNsQ0O2");

        Assert.Equal(HttpStatusCode.OK, (await harness.Client.GetAsync("/api/health", Ct)).StatusCode);
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "dial");
        Assert.Equal("[]", (await harness.Client.GetStringAsync("/api/calls", Ct)).Split("\"calls\":")[1].Split(']')[0] + "]");
        Assert.InRange(HostileMemory.Managed() - memoryBefore, long.MinValue, 64L << 20);
    }

    internal static async Task<HttpStatusCode> SendAsync(HttpClient client, Hostile hostile)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, hostile.Path) { Content = new ByteArrayContent(hostile.Body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(hostile.ContentType);

        // A body refused for its size is refused before it is sent: the client waits for 100 Continue, as HTTP/1.1 intends.
        request.Headers.ExpectContinue = hostile.Kind == "oversized";
        using var response = await client.SendAsync(request, Ct);
        return response.StatusCode;
    }
}
