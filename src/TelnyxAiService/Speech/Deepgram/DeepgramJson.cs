using System.Text.Json.Serialization;

namespace TelnyxAiService.Speech.Deepgram;

/// <summary>A Deepgram live (v1) server message, told apart by its <c>type</c>; an unknown type reads as this base.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", IgnoreUnrecognizedTypeDiscriminators = true)]
[JsonDerivedType(typeof(DeepgramResults), "Results")]
[JsonDerivedType(typeof(DeepgramSpeechStarted), "SpeechStarted")]
[JsonDerivedType(typeof(DeepgramUtteranceEnd), "UtteranceEnd")]
[JsonDerivedType(typeof(DeepgramMetadata), "Metadata")]
internal record DeepgramMessage;

internal sealed record DeepgramResults(
    [property: JsonRequired] DeepgramChannel Channel,
    [property: JsonRequired] bool IsFinal,
    bool? SpeechFinal,
    double? Start,
    double? Duration) : DeepgramMessage;

internal sealed record DeepgramChannel([property: JsonRequired] IReadOnlyList<DeepgramAlternative> Alternatives);

internal sealed record DeepgramAlternative([property: JsonRequired] string Transcript, double? Confidence, IReadOnlyList<DeepgramWord>? Words);

internal sealed record DeepgramWord(string Word, double Start, double End, double? Confidence, string? PunctuatedWord);

internal sealed record DeepgramSpeechStarted(double? Timestamp) : DeepgramMessage;

internal sealed record DeepgramUtteranceEnd(double? LastWordEnd) : DeepgramMessage;

internal sealed record DeepgramMetadata(string? RequestId, double? Duration) : DeepgramMessage;

/// <summary>A control frame we send: KeepAlive, Finalize, CloseStream.</summary>
internal sealed record DeepgramControl(string Type);

/// <summary>The Deepgram live wire formats, in snake_case; nulls where the type forbids them are refused.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    RespectNullableAnnotations = true,
    AllowOutOfOrderMetadataProperties = true)]
[JsonSerializable(typeof(DeepgramMessage))]
[JsonSerializable(typeof(DeepgramControl))]
internal sealed partial class DeepgramJson : JsonSerializerContext;
