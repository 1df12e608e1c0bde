namespace TelnyxAiService.Emulators.ElevenLabs;

/// <summary>Knobs of the ElevenLabs emulator. The defaults suit tests: no first-byte delay, audio made 4x faster than real time.</summary>
public sealed class ElevenLabsEmulatorOptions
{
    /// <summary>The key clients must send as <c>xi-api-key</c>.</summary>
    public string ApiKey { get; init; } = "emulated-elevenlabs-key";

    /// <summary>Delay before the first audio of each generation (the vendor's is about 150-300 ms with flash models).</summary>
    public TimeSpan TimeToFirstByte { get; init; } = TimeSpan.Zero;

    /// <summary>How much faster than real time audio is produced; <see cref="double.PositiveInfinity"/> sends it all at once.</summary>
    public double RealtimeFactor { get; init; } = 4;

    /// <summary>Audio per HTTP write or WebSocket audio message.</summary>
    public TimeSpan ChunkDuration { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }
}

/// <summary>Failures the emulator can be told to return for the next requests.</summary>
public enum ElevenLabsFault
{
    /// <summary>HTTP 401 <c>quota_exceeded</c>, the recorded shape with character_used and character_limit.</summary>
    Http401Quota,

    /// <summary>HTTP 429 <c>too_many_concurrent_requests</c>.</summary>
    Http429,

    /// <summary>HTTP 500 <c>internal_server_error</c>.</summary>
    Http500,
}

/// <summary>One request as the emulator received it. For a stream-input WebSocket, <see cref="Messages"/> fills as the client sends.</summary>
public sealed record ElevenLabsRecordedRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyDictionary<string, string> Query,
    string Body)
{
    private readonly List<string> _messages = [];

    /// <summary>The text messages received on a WebSocket, in order.</summary>
    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    internal void AddMessage(string message)
    {
        lock (_messages)
        {
            _messages.Add(message);
        }
    }
}
