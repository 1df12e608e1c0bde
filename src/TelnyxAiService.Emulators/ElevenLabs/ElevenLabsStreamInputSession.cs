using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Emulators.ElevenLabs;

/// <summary>
/// One <c>stream-input</c> WebSocket. The first message (BOS) is <c>{"text":" "}</c>, optionally with the key and a
/// <c>generation_config.chunk_length_schedule</c>; text then collects until the buffer reaches the schedule's next
/// length or a message says <c>flush</c>; <c>{"text":""}</c> (EOS) speaks the rest, sends <c>{"isFinal":true}</c> and
/// closes. <c>try_trigger_generation</c> is deprecated by the vendor and ignored.
/// </summary>
internal sealed class ElevenLabsStreamInputSession(
    ElevenLabsEmulator emulator,
    WebSocket socket,
    EmulatedAudioFormat format,
    ElevenLabsRecordedRequest request,
    bool authenticated)
{
    private static readonly int[] DefaultSchedule = [120, 160, 250, 290];

    private readonly StringBuilder _buffer = new();
    private int[] _schedule = DefaultSchedule;
    private int _generations;
    private bool _started;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await ReceiveTextAsync(cancellationToken) is { } message)
            {
                request.AddMessage(message);
                if (!await HandleAsync(message, cancellationToken))
                {
                    return;
                }
            }
        }
        catch (WebSocketException)
        {
            // The client went away mid-session.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Handles one client message; false when the session is over.</summary>
    private async Task<bool> HandleAsync(string message, CancellationToken cancellationToken)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(message) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return await FailAsync("invalid_message", "Messages must be JSON objects.", cancellationToken);
        }

        var text = StringOf(json["text"]);
        var flush = json["flush"] is JsonValue f && f.TryGetValue<bool>(out var b) && b;
        if (!_started)
        {
            if (!authenticated && !HasKey(json))
            {
                return await FailAsync("invalid_api_key", "Invalid API key", cancellationToken);
            }

            if (text != " ")
            {
                return await FailAsync("invalid_message", "The first message must initialise the stream with {\"text\":\" \"}.", cancellationToken);
            }

            if (json["generation_config"]?["chunk_length_schedule"] is JsonArray schedule && schedule.Count > 0)
            {
                _schedule = [.. schedule.Select(n => Math.Clamp(n is JsonValue v && v.TryGetValue<int>(out var length) ? length : 120, 50, 500))];
            }

            _started = true;
            return true;
        }

        if (text == "" && !flush)
        {
            await GenerateAsync(cancellationToken);
            await SendAsync(new JsonObject { ["isFinal"] = true }, cancellationToken);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
            return false;
        }

        _buffer.Append(text);
        if (flush || _buffer.Length >= _schedule[Math.Min(_generations, _schedule.Length - 1)])
        {
            await GenerateAsync(cancellationToken);
        }

        return true;
    }

    private bool HasKey(JsonObject json)
    {
        var key = StringOf(json["xi-api-key"]) ?? StringOf(json["authorization"])?.Replace("Bearer ", "", StringComparison.Ordinal);
        return key == emulator.ApiKey;
    }

    private static string? StringOf(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>Speaks the buffered text as audio messages of ChunkDuration each, with per-chunk character timings.</summary>
    private async Task GenerateAsync(CancellationToken cancellationToken)
    {
        var text = _buffer.ToString();
        _buffer.Clear();
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        _generations++;
        var audio = SyntheticSpeech.For(text, format);
        var duration = format.DurationOf(audio.Length);
        var chunk = emulator.Options.ChunkDuration;
        var chunkBytes = Math.Max(format.BytesPerSample, format.BytesPer(chunk));
        await ElevenLabsEmulator.DelayAsync(emulator.Options.TimeToFirstByte, emulator.Options.TimeProvider, cancellationToken);
        for (var (offset, index) = (0, 0); offset < audio.Length; offset += chunkBytes, index++)
        {
            if (index > 0)
            {
                await ElevenLabsEmulator.DelayAsync(emulator.PaceOf(chunk), emulator.Options.TimeProvider, cancellationToken);
            }

            var from = chunk * index;
            var to = from + chunk;
            await SendAsync(
                new JsonObject
                {
                    ["audio"] = Convert.ToBase64String(audio, offset, Math.Min(chunkBytes, audio.Length - offset)),
                    ["isFinal"] = null,
                    ["normalizedAlignment"] = Alignment(" " + text, duration, from, to),
                    ["alignment"] = Alignment(text, duration, from, to),
                },
                cancellationToken);
        }
    }

    /// <summary>The characters of <paramref name="text"/>, spread evenly over the audio, that start in [from, to), with times relative to from.</summary>
    private static JsonObject? Alignment(string text, TimeSpan duration, TimeSpan from, TimeSpan to)
    {
        var perCharacter = duration / text.Length;
        var chars = new JsonArray();
        var starts = new JsonArray();
        var durations = new JsonArray();
        for (var i = 0; i < text.Length; i++)
        {
            var start = perCharacter * i;
            if (start >= from && start < to)
            {
                chars.Add((JsonNode)text[i].ToString());
                starts.Add((JsonNode)(int)(start - from).TotalMilliseconds);
                durations.Add((JsonNode)(int)perCharacter.TotalMilliseconds);
            }
        }

        return chars.Count == 0 ? null : new JsonObject { ["chars"] = chars, ["charStartTimesMs"] = starts, ["charDurationsMs"] = durations };
    }

    private async Task<bool> FailAsync(string error, string message, CancellationToken cancellationToken)
    {
        await SendAsync(new JsonObject { ["message"] = message, ["error"] = error, ["code"] = 1008 }, cancellationToken);
        await socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, message.Length > 120 ? message[..120] : message, cancellationToken);
        return false;
    }

    private Task SendAsync(JsonObject message, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private async Task<string?> ReceiveTextAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
                return null;
            }

            buffer.Advance(result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(buffer.WrittenSpan);
            }
        }
    }
}
