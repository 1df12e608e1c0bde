using System.Text.Json.Serialization;

namespace TelnyxAiService.BrowserCalls;

/// <summary>
/// The first frame the browser gets: the call's id and the audio both ways (16-bit little-endian mono PCM, binary
/// frames).
/// </summary>
internal sealed record BrowserStart(string Event, string CallId, int SampleRate, string Encoding);

/// <summary>
/// Every other text frame, either way: <c>mark</c> (with its name), <c>clear</c> (server to browser) and
/// <c>hangup</c> (browser to server).
/// </summary>
internal sealed record BrowserMessage(string? Event, string? Name = null);

/// <summary>The browser call's text frames, by source generation.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BrowserStart))]
[JsonSerializable(typeof(BrowserMessage))]
internal sealed partial class BrowserJson : JsonSerializerContext;
