using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TelnyxAiService.Emulators.Anthropic;
using TelnyxAiService.Emulators.Deepgram;
using TelnyxAiService.Emulators.ElevenLabs;
using TelnyxAiService.Emulators.Hosting;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Emulators.Telnyx.Media;

namespace TelnyxAiService.Tests.Failover;

/// <summary>
/// The four vendor emulators for service processes on media streams: a streaming callee whose script depends on the
/// call and on which of its streams it is (1 on answer, 2 after the first <c>streaming_start</c>), and the moment each
/// stream's script began, so agent audio arrival times (offsets from the stream's start) become wall-clock times.
/// Webhooks are retried for about ten seconds, as Telnyx retries them, so events sent while a process restarts arrive.
/// </summary>
internal sealed class MediaVendors : IAsyncDisposable
{
    /// <summary>The line the agent says first on a resumed call (<c>Phrases.Resumed</c> in English).</summary>
    public const string ResumedLine = "Sorry, the line cut out for a moment. Where were we?";

    private readonly ConcurrentDictionary<(string CallControlId, int Stream), DateTimeOffset> _streamsOpened = new();

    private MediaVendors(TelnyxEmulator telnyx, AnthropicEmulator anthropic, DeepgramEmulator deepgram, ElevenLabsEmulator elevenLabs, StreamingCallee callee)
    {
        Telnyx = telnyx;
        Anthropic = anthropic;
        Deepgram = deepgram;
        ElevenLabs = elevenLabs;
        Callee = callee;
    }

    public TelnyxEmulator Telnyx { get; }

    public AnthropicEmulator Anthropic { get; }

    public DeepgramEmulator Deepgram { get; }

    public ElevenLabsEmulator ElevenLabs { get; }

    public StreamingCallee Callee { get; }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <param name="caller">The caller's script for a call's stream (1-based stream number).</param>
    /// <param name="transcripts">What Deepgram connection k transcribes, in order; null: "hello" for everything.</param>
    /// <param name="reply">The agent's reply to the caller's last line.</param>
    public static async Task<MediaVendors> StartAsync(Func<EmulatedCall, int, CallerScript> caller, Func<int, IReadOnlyList<string>>? transcripts, Func<string, string> reply)
    {
        var telnyx = await TelnyxEmulator.StartAsync(
            new TelnyxEmulatorOptions
            {
                Callee = new CalleeScript { AnswerAfter = TimeSpan.FromMilliseconds(20) },
                WebhookAttempts = 20,
                WebhookRetryDelay = TimeSpan.FromMilliseconds(50),
            },
            Ct);
        var anthropic = await AnthropicEmulator.StartAsync(
            new AnthropicEmulatorOptions { Reply = r => new ScriptedReply(reply(r.Messages.LastOrDefault(m => m.Role == "user").Text ?? "")) }, Ct);
        var deepgram = await DeepgramEmulator.StartAsync(new DeepgramEmulatorOptions { ScriptForConnection = transcripts }, Ct);
        var elevenLabs = await ElevenLabsEmulator.StartAsync(new ElevenLabsEmulatorOptions(), Ct);
        MediaVendors? vendors = null;
        var callee = new StreamingCallee(call =>
        {
            vendors!._streamsOpened[(call.CallControlId, call.StreamsStarted)] = DateTimeOffset.UtcNow;
            return caller(call, call.StreamsStarted);
        });
        telnyx.MediaCallee = callee.RunAsync;
        vendors = new MediaVendors(telnyx, anthropic, deepgram, elevenLabs, callee);
        return vendors;
    }

    /// <summary>Everything a service process on <paramref name="port"/> needs, on media streams, with 3 s leases.</summary>
    /// <param name="webhookBaseUrl">Where Telnyx sends its webhooks and streams (default: the process itself).</param>
    public Dictionary<string, string> SettingsFor(int port, string databaseUrl, string instanceId, Uri? webhookBaseUrl = null) =>
        new(EmulatorSet.ServiceSettings(Telnyx, Deepgram, Anthropic, ElevenLabs, webhookBaseUrl ?? new Uri($"http://127.0.0.1:{port}")))
        {
            ["USE_MEDIA_STREAMS"] = "true",
            ["AGENT_LANGUAGE"] = "en",
            ["DATABASE_URL"] = databaseUrl,
            ["INSTANCE_ID"] = instanceId,
            ["LEASE_SECONDS"] = "3",
            ["LOG_LEVEL"] = "Warning",
        };

    /// <summary>When the caller's script for the stream began (the stream connects right after).</summary>
    public DateTimeOffset StreamOpenedAt(string callControlId, int stream) => _streamsOpened[(callControlId, stream)];

    /// <summary>Wall-clock time of the first agent audio frame the caller received on the stream.</summary>
    public DateTimeOffset FirstAgentAudioAt(string callControlId, int stream, MediaCallRecording recording) =>
        StreamOpenedAt(callControlId, stream) + recording.Arrivals[0].At;

    /// <summary>Dials that placed a call (a repeated command_id is answered from memory and places none).</summary>
    public IReadOnlyList<RecordedCommand> PlacedDials() =>
        [.. Telnyx.Commands.Where(c => c.Action == "dial" && c.StatusCode == 200 && !c.Duplicate)];

    /// <summary>POST /api/call/initiate; returns the call id and call_control_id.</summary>
    public static async Task<(string CallId, string CallControlId)> InitiateAsync(HttpClient client, string phone, string greeting)
    {
        var response = await client.PostAsJsonAsync("/api/call/initiate", new { telefono = phone, nombre = "Ana", contexto = "Dental check-up reminder", saludo = greeting }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (created.GetProperty("call_id").GetString()!, created.GetProperty("call_control_id").GetString()!);
    }

    /// <summary>The stored call's (speaker, text) turns, in order.</summary>
    public static IReadOnlyList<(string Speaker, string Text)> Turns(JsonElement stored) =>
        [.. stored.GetProperty("transcript").EnumerateArray().Select(t => (t.GetProperty("speaker").GetString()!, t.GetProperty("text").GetString()!))];

    /// <summary>Polls GET /api/calls/{id} until it holds at least <paramref name="turns"/> turns (and has ended, when asked).</summary>
    public static async Task<JsonElement> WaitForStoredAsync(HttpClient client, string callId, int turns, bool ended, string what, TimeSpan? timeout = null)
    {
        JsonElement stored = default;
        await TestHost.Wait.UntilAsync(
            async () =>
            {
                stored = await client.GetFromJsonAsync<JsonElement>($"/api/calls/{callId}", Ct);
                return stored.GetProperty("transcript").GetArrayLength() >= turns && (!ended || stored.GetProperty("call").TryGetProperty("ended_at", out var at) && at.ValueKind != JsonValueKind.Null);
            },
            what,
            timeout ?? TimeSpan.FromSeconds(20));
        return stored;
    }

    public async ValueTask DisposeAsync()
    {
        await Telnyx.DisposeAsync();
        await Anthropic.DisposeAsync();
        await Deepgram.DisposeAsync();
        await ElevenLabs.DisposeAsync();
    }
}
