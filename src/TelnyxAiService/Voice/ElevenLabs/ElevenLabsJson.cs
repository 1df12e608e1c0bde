using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TelnyxAiService.Voice.ElevenLabs;

internal sealed record VoiceSettings(
    [property: JsonPropertyName("stability")] double Stability,
    [property: JsonPropertyName("similarity_boost")] double SimilarityBoost,
    [property: JsonPropertyName("speed")] double Speed);

internal sealed record SpeechRequest(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("model_id")] string ModelId,
    [property: JsonPropertyName("language_code")] string LanguageCode,
    [property: JsonPropertyName("voice_settings")] VoiceSettings VoiceSettings)
{
    public static VoiceSettings DefaultVoiceSettings { get; } = new(0.5, 0.75, 1.0);
}

/// <summary>An error reply: <c>{"detail":{"status","message"}}</c>, <c>{"detail":[{"loc","msg","type"}]}</c> or <c>{"detail":"..."}</c>.</summary>
internal sealed record ElevenLabsErrorBody([property: JsonPropertyName("detail")] ElevenLabsErrorDetail? Detail);

/// <summary>The detail of an error reply, whichever of its three shapes it came in.</summary>
[JsonConverter(typeof(ElevenLabsErrorDetailConverter))]
internal sealed record ElevenLabsErrorDetail(string? Status, string? Message, IReadOnlyList<ElevenLabsValidationProblem>? Problems);

internal sealed record ElevenLabsStatusDetail(
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("message")] string? Message);

internal sealed record ElevenLabsValidationProblem(
    [property: JsonPropertyName("loc")] IReadOnlyList<ElevenLabsLocationPart>? Loc,
    [property: JsonPropertyName("msg")] string? Msg,
    [property: JsonPropertyName("type")] string? Type);

/// <summary>One step of a validation error's location: a field name or a list index.</summary>
[JsonConverter(typeof(ElevenLabsLocationPartConverter))]
internal readonly record struct ElevenLabsLocationPart(string Text);

internal sealed class ElevenLabsErrorDetailConverter : JsonConverter<ElevenLabsErrorDetail>
{
    public override ElevenLabsErrorDetail? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.StartObject when JsonSerializer.Deserialize(ref reader, ElevenLabsJson.Default.ElevenLabsStatusDetail) is { } detail =>
            new ElevenLabsErrorDetail(detail.Status, detail.Message, null),
        JsonTokenType.StartArray =>
            new ElevenLabsErrorDetail("validation_error", null, JsonSerializer.Deserialize(ref reader, ElevenLabsJson.Default.IReadOnlyListElevenLabsValidationProblem)),
        JsonTokenType.String => new ElevenLabsErrorDetail(null, reader.GetString(), null),
        _ => throw new JsonException("detail is neither an object, a list nor text"),
    };

    public override void Write(Utf8JsonWriter writer, ElevenLabsErrorDetail value, JsonSerializerOptions options) => throw new NotSupportedException();
}

internal sealed class ElevenLabsLocationPartConverter : JsonConverter<ElevenLabsLocationPart>
{
    public override ElevenLabsLocationPart Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => new(reader.GetString()!),
        JsonTokenType.Number when reader.TryGetInt64(out var index) => new(index.ToString(CultureInfo.InvariantCulture)),
        _ => throw new JsonException("a location step is neither a name nor an index"),
    };

    public override void Write(Utf8JsonWriter writer, ElevenLabsLocationPart value, JsonSerializerOptions options) => throw new NotSupportedException();
}

[JsonSerializable(typeof(SpeechRequest))]
[JsonSerializable(typeof(ElevenLabsErrorBody))]
[JsonSerializable(typeof(ElevenLabsStatusDetail))]
[JsonSerializable(typeof(IReadOnlyList<ElevenLabsValidationProblem>))]
internal sealed partial class ElevenLabsJson : JsonSerializerContext;
