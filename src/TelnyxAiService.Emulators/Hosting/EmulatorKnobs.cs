using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TelnyxAiService.Emulators.Hosting;

/// <summary>A knob was unknown or its value malformed; the message names it.</summary>
public sealed class InvalidKnobException(string message) : Exception(message);

/// <summary>
/// The knobs of the four emulators run together: ports, delays and faults. Each knob has one name, used both as a
/// command-line flag (<c>--deepgram-final-delay-ms 300</c>) and as a key of a JSON file
/// (<c>{"deepgram-final-delay-ms": 300}</c>); flags given after <c>--config FILE</c> override the file.
/// </summary>
public sealed class EmulatorKnobs
{
    /// <summary>Every knob: its name, what it does, and how its value is applied.</summary>
    public static readonly IReadOnlyList<Knob> All =
    [
        new("port-base", "first port: Telnyx N, Deepgram N+1, Anthropic N+2, ElevenLabs N+3 (0: free ports)", (k, v) => k.PortBase = Int(v, 0, 65532)),
        new("telnyx-answer-after-ms", "ring time before the callee answers", (k, v) => k.TelnyxAnswerAfter = Ms(v)),
        new("telnyx-max-call-seconds", "hang up answered calls after this long (time_limit)", (k, v) => k.TelnyxMaxCall = TimeSpan.FromSeconds(Int(v, 1, 86400))),
        new("telnyx-requests-per-second", "answer 429 (code 10011) above this rate", (k, v) => k.TelnyxRequestsPerSecond = Int(v, 1, 100000)),
        new("telnyx-fail-dials", "the first N dials answer 429 with retry-after", (k, v) => k.TelnyxFailDials = Int(v, 0, 1000)),
        new("telnyx-duplicate-webhooks", "deliver every webhook twice (same event id)", (k, v) => k.TelnyxDuplicateWebhooks = Bool(v)),
        new("telnyx-reorder-webhooks", "deliver waiting webhooks pairwise swapped", (k, v) => k.TelnyxReorderWebhooks = Bool(v)),
        new("deepgram-final-delay-ms", "delay before every final transcript (slow finals)", (k, v) => k.DeepgramFinalDelay = Ms(v)),
        new("deepgram-drop-after-ms", "abort the first connection after this much audio", (k, v) => k.DeepgramDropAfter = Ms(v)),
        new("deepgram-unavailable-handshakes", "the first N handshakes answer 503", (k, v) => k.DeepgramUnavailableHandshakes = Int(v, 0, 1000)),
        new("anthropic-ttft-ms", "time to first token", (k, v) => k.AnthropicTimeToFirstToken = Ms(v)),
        new("anthropic-tokens-per-second", "streaming pace (0: all at once)", (k, v) => k.AnthropicTokensPerSecond = Number(v, 0, 100000)),
        new("anthropic-fail", "the first N requests answer 429 rate_limit_error (retry-after 1)", (k, v) => k.AnthropicFailures = Int(v, 0, 1000)),
        new("elevenlabs-ttfb-ms", "time to first audio byte of each generation", (k, v) => k.ElevenLabsTimeToFirstByte = Ms(v)),
        new("elevenlabs-realtime-factor", "how much faster than real time audio is made", (k, v) => k.ElevenLabsRealtimeFactor = Number(v, 0.1, 1000)),
        new("elevenlabs-fail", "the first N requests answer 500", (k, v) => k.ElevenLabsFailures = Int(v, 0, 1000)),
    ];

    public int PortBase { get; set; }

    public TimeSpan TelnyxAnswerAfter { get; set; } = TimeSpan.FromMilliseconds(300);

    public TimeSpan? TelnyxMaxCall { get; set; }

    public int? TelnyxRequestsPerSecond { get; set; }

    public int TelnyxFailDials { get; set; }

    public bool TelnyxDuplicateWebhooks { get; set; }

    public bool TelnyxReorderWebhooks { get; set; }

    public TimeSpan DeepgramFinalDelay { get; set; }

    public TimeSpan? DeepgramDropAfter { get; set; }

    public int DeepgramUnavailableHandshakes { get; set; }

    public TimeSpan AnthropicTimeToFirstToken { get; set; }

    public double AnthropicTokensPerSecond { get; set; }

    public int AnthropicFailures { get; set; }

    public TimeSpan ElevenLabsTimeToFirstByte { get; set; }

    public double ElevenLabsRealtimeFactor { get; set; } = 4;

    public int ElevenLabsFailures { get; set; }

    /// <summary>Sets one knob by name (without the leading dashes).</summary>
    public void Set(string name, string value)
    {
        var knob = All.FirstOrDefault(k => k.Name == name) ?? throw new InvalidKnobException($"unknown knob '{name}' (known: {string.Join(", ", All.Select(k => k.Name))})");
        try
        {
            knob.Apply(this, value);
        }
        catch (FormatException e)
        {
            throw new InvalidKnobException($"{name}: {e.Message}, got '{value}'");
        }
    }

    /// <summary>Applies a knobs file: one JSON object of knob values, e.g. <c>{"anthropic-ttft-ms": 400, "telnyx-duplicate-webhooks": true}</c>.</summary>
    public void Apply(string json)
    {
        Dictionary<string, KnobValue>? values;
        try
        {
            values = JsonSerializer.Deserialize(json, KnobsJson.Default.DictionaryStringKnobValue);
        }
        catch (JsonException e)
        {
            throw new InvalidKnobException($"the knobs file must hold one JSON object of strings, numbers and true/false ({e.Message})");
        }

        foreach (var (name, value) in values ?? throw new InvalidKnobException("the knobs file must hold one JSON object"))
        {
            Set(name, value.Text);
        }
    }

    private static int Int(string value, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new FormatException($"must be a whole number from {min} to {max}");

    private static double Number(string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new FormatException($"must be a number from {min} to {max}");

    private static TimeSpan Ms(string value) => TimeSpan.FromMilliseconds(Int(value, 0, 600_000));

    private static bool Bool(string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new FormatException("must be true or false"),
    };
}

/// <summary>One knob: <see cref="Name"/> is both the flag (after <c>--</c>) and the JSON key.</summary>
public sealed record Knob(string Name, string Description, Action<EmulatorKnobs, string> Apply);

/// <summary>A knob's value in a knobs file, as the text a flag would carry: a string, a number or true/false.</summary>
[JsonConverter(typeof(KnobValueConverter))]
public readonly record struct KnobValue(string Text);

internal sealed class KnobValueConverter : JsonConverter<KnobValue>
{
    public override KnobValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => new KnobValue(reader.GetString()!),
        JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False =>
            new KnobValue(Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan)),
        _ => throw new JsonException("a knob value is a string, a number or true/false"),
    };

    public override void Write(Utf8JsonWriter writer, KnobValue value, JsonSerializerOptions options) => writer.WriteStringValue(value.Text);
}

[JsonSerializable(typeof(Dictionary<string, KnobValue>))]
internal sealed partial class KnobsJson : JsonSerializerContext;
