using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TelnyxAiService.Emulators;
using TelnyxAiService.Emulators.Audio;

namespace TelnyxAiService.Bench;

/// <summary>
/// The original (Rust) design's reply sequence, re-run as a measurement harness against the same emulators and
/// delays: caller audio to Deepgram; act on the first transcript of at least 3 words or 10 characters; Claude
/// without streaming; the whole reply through ElevenLabs' non-streaming endpoint; upload to S3; Telnyx
/// <c>playback_start</c> of the object's URL. The caller hears the reply when Telnyx has fetched the file.
/// </summary>
internal static class BaselineBench
{
    private static readonly TimeSpan Frame = TimeSpan.FromMilliseconds(20);

    public static async Task<string> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var report = new StringBuilder();
        report.AppendLine("## 2. Baseline: the original design's sequence, same emulators and delays").AppendLine();
        report.AppendLine("Act on the first Deepgram transcript of >= 3 words or >= 10 characters (interim or final) -> Claude `stream:false` -> ElevenLabs `POST /v1/text-to-speech/{voice}` (whole file, ulaw_8000 in a WAV; the emulator has no MP3) -> HTTP PUT to the S3 emulator -> Telnyx `playback_start` with the object URL; the reply is heard when the Telnyx emulator has fetched the file (`EmulatedCall.AudioFetches`).");
        report.AppendLine("The Anthropic emulator answers `stream:false` right after the TTFT (it does not model generation time), so the harness adds output_tokens / tokens-per-second after the response, as the real API takes that long before it answers.");
        report.AppendLine("Same caller lines as section 1; voice to voice = last speech frame sent -> audio fetched by Telnyx, on one clock (all in the load-generator process).").AppendLine();
        var builds = string.Join(" / ", options.Builds.Select(b => b.Name));
        report.AppendLine(CultureInfo.InvariantCulture, $"| calls | turns | p50 ms | p95 ms | p99 ms | trigger vs end of speech p50 ms | turns answered before the caller finished | ours p50, defaults ({builds}) | baseline p50 / ours p50 ({builds}) |");
        report.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var calls in options.LatencyCalls)
        {
            var turns = await RunLevelAsync(options, calls, cancellationToken);
            var done = turns.Where(t => t.HeardAt is not null && t.LineEnd is not null).ToList();
            var lat = new Percentiles(done.Select(t => (t.HeardAt!.Value - t.LineEnd!.Value).TotalMilliseconds));
            var trigger = new Percentiles(done.Where(t => t.TriggerAt is not null).Select(t => (t.TriggerAt!.Value - t.LineEnd!.Value).TotalMilliseconds));
            var early = done.Count(t => t.HeardAt < t.LineEnd);
            var ours = options.Builds.Select(b => LatencyBench.LastDefaultsP50.TryGetValue((b.Name, calls), out var p) ? p : double.NaN).ToList();
            report.AppendLine(CultureInfo.InvariantCulture, $"| {calls} | {done.Count}/{calls * LatencyBench.Lines.Length} | {Fmt.Ms(lat[50])} | {Fmt.Ms(lat[95])} | {Fmt.Ms(lat[99])} | {Fmt.Ms(trigger[50])} | {early} | {string.Join(" / ", ours.Select(Fmt.Ms))} | {string.Join(" / ", ours.Select(o => Fmt.Num(lat[50] / o, "0.00")))} |");
            Console.WriteLine($"baseline calls={calls}: p50={lat[50]:0} p99={lat[99]:0} n={lat.Count}");
        }

        report.AppendLine();
        return report.ToString();
    }

    private static async Task<List<Turn>> RunLevelAsync(BenchOptions options, int calls, CancellationToken cancellationToken)
    {
        await using var env = await BenchEnvironment.StartAsync(options.Delays, LatencyBench.Lines, LatencyBench.Reply, caller: null, callee: null, cancellationToken);
        await using var sink = await EmulatorHost.StartAsync(app => app.MapPost("/webhooks", () => Results.Ok()), cancellationToken: cancellationToken);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var harness = new Harness(env, options.Delays, http, new Uri(sink.BaseUrl, "/webhooks"));
        await harness.CallAsync(0, cancellationToken);
        var spread = TimeSpan.FromMilliseconds(Math.Min(calls * 25, 5000));
        var results = await Task.WhenAll(Enumerable.Range(1, calls).Select(async i =>
        {
            await Task.Delay(spread * (i - 1) / calls, cancellationToken);
            return await harness.CallAsync(i, cancellationToken);
        }));
        return [.. results.SelectMany(t => t)];
    }

    private sealed class Turn
    {
        public DateTimeOffset? LineEnd { get; set; }

        public DateTimeOffset? TriggerAt { get; set; }

        public DateTimeOffset? HeardAt { get; set; }

        public Task? Reply { get; set; }
    }

    private sealed class Harness(BenchEnvironment env, Delays delays, HttpClient http, Uri webhookUrl)
    {
        public async Task<List<Turn>> CallAsync(int index, CancellationToken cancellationToken)
        {
            var callControlId = await DialAsync(index, cancellationToken);
            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", $"Token {env.Deepgram.ApiKey}");
            var query = $"?model=nova-3&language=en&encoding=mulaw&sample_rate=8000&channels=1&interim_results=true&endpointing={delays.EndpointingMs}&utterance_end_ms=1000&vad_events=true&smart_format=true";
            await socket.ConnectAsync(new Uri(env.Deepgram.ListenUrl + query), cancellationToken);
            var turns = LatencyBench.Lines.Select(_ => new Turn()).ToList();
            var current = -1;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var receiving = ReceiveAsync(socket, () => Volatile.Read(ref current) is var i && i >= 0 ? turns[i] : null, callControlId, stop.Token);
            var clock = Stopwatch.StartNew();
            var frames = 0L;
            var silence = SyntheticSpeech.Silence(Frame, EmulatedAudioFormat.Pcmu8k);
            async Task SendAsync(byte[] audio)
            {
                for (var offset = 0; offset < audio.Length; offset += 160)
                {
                    var due = Frame * ++frames - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, cancellationToken);
                    }

                    var frame = audio.AsMemory(offset, Math.Min(160, audio.Length - offset));
                    await socket.SendAsync(frame, WebSocketMessageType.Binary, true, cancellationToken);
                }
            }

            for (var i = 0; i < LatencyBench.Lines.Length; i++)
            {
                await SendAsync(Repeat(silence, 30));
                Volatile.Write(ref current, i);
                await SendAsync(SyntheticSpeech.For(LatencyBench.Lines[i], EmulatedAudioFormat.Pcmu8k));
                turns[i].LineEnd = DateTimeOffset.UtcNow;
                await SendAsync(Repeat(silence, 150));
                if (turns[i].Reply is { } reply)
                {
                    await reply.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
                }
            }

            await socket.SendAsync("{\"type\":\"CloseStream\"}"u8.ToArray(), WebSocketMessageType.Text, true, cancellationToken);
            await stop.CancelAsync();
            try
            {
                await receiving;
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException)
            {
            }

            await http.SendAsync(Command(callControlId, "hangup", new { }), cancellationToken);
            return turns;
        }

        private static byte[] Repeat(byte[] frame, int count) => [.. Enumerable.Repeat(frame, count).SelectMany(f => f)];

        private async Task ReceiveAsync(ClientWebSocket socket, Func<Turn?> currentTurn, string callControlId, CancellationToken cancellationToken)
        {
            var buffer = new byte[64 * 1024];
            using var message = new MemoryStream();
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                using var json = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                if (json.RootElement.GetProperty("type").GetString() != "Results" || currentTurn() is not { Reply: null } turn)
                {
                    continue;
                }

                var transcript = json.RootElement.GetProperty("channel").GetProperty("alternatives")[0].GetProperty("transcript").GetString() ?? "";
                if (transcript.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 3 || transcript.Length >= 10)
                {
                    turn.TriggerAt = DateTimeOffset.UtcNow;
                    turn.Reply = ReplyAsync(turn, transcript, callControlId, cancellationToken);
                }
            }
        }

        private async Task ReplyAsync(Turn turn, string transcript, string callControlId, CancellationToken cancellationToken)
        {
            using var claude = new HttpRequestMessage(HttpMethod.Post, new Uri(env.Anthropic.BaseUrl, "/v1/messages"))
            {
                Content = JsonContent.Create(new { model = "claude-haiku-4-5", max_tokens = 300, stream = false, messages = new[] { new { role = "user", content = transcript } } }),
            };
            claude.Headers.Add("x-api-key", env.Anthropic.ApiKey);
            claude.Headers.Add("anthropic-version", "2023-06-01");
            using var answer = await http.SendAsync(claude, cancellationToken);
            answer.EnsureSuccessStatusCode();
            var message = await answer.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            var text = string.Concat(message.GetProperty("content").EnumerateArray().Where(b => b.GetProperty("type").GetString() == "text").Select(b => b.GetProperty("text").GetString()));
            var outputTokens = message.GetProperty("usage").GetProperty("output_tokens").GetInt32();
            await Task.Delay(TimeSpan.FromSeconds(outputTokens / delays.ClaudeTokensPerSecond), cancellationToken);

            using var tts = new HttpRequestMessage(HttpMethod.Post, new Uri(env.ElevenLabs.BaseUrl, "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM?output_format=ulaw_8000"))
            {
                Content = JsonContent.Create(new { text, model_id = "eleven_flash_v2_5" }),
            };
            tts.Headers.Add("xi-api-key", env.ElevenLabs.ApiKey);
            using var speech = await http.SendAsync(tts, cancellationToken);
            speech.EnsureSuccessStatusCode();
            var wav = MuLawWav(await speech.Content.ReadAsByteArrayAsync(cancellationToken));

            var url = env.S3.ObjectUrl("recordings", $"replies/{Guid.NewGuid():N}.wav");
            using var put = new ByteArrayContent(wav);
            put.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
            using var stored = await http.PutAsync(url, put, cancellationToken);
            stored.EnsureSuccessStatusCode();

            var call = env.Telnyx.FindCall(callControlId)!;
            var fetched = call.AudioFetches.Count;
            using var playback = await http.SendAsync(Command(callControlId, "playback_start", new { audio_url = url.ToString(), audio_type = "wav" }), cancellationToken);
            playback.EnsureSuccessStatusCode();
            while (call.AudioFetches.Count == fetched)
            {
                await Task.Delay(1, cancellationToken);
            }

            turn.HeardAt = call.AudioFetches[fetched].Timestamp;
        }

        private async Task<string> DialAsync(int index, CancellationToken cancellationToken)
        {
            using var dial = new HttpRequestMessage(HttpMethod.Post, $"{env.Telnyx.ApiBaseUrl}/calls")
            {
                Content = JsonContent.Create(new
                {
                    connection_id = "1494404757140276705",
                    to = "+3460" + (2000000 + index).ToString(CultureInfo.InvariantCulture),
                    from = "+15550100000",
                    webhook_url = webhookUrl.ToString(),
                }),
            };
            dial.Headers.Authorization = new AuthenticationHeaderValue("Bearer", env.Telnyx.ApiKey);
            using var response = await http.SendAsync(dial, cancellationToken);
            response.EnsureSuccessStatusCode();
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("data").GetProperty("call_control_id").GetString()!;
            while (env.Telnyx.FindCall(id)?.AnsweredAt is null)
            {
                await Task.Delay(5, cancellationToken);
            }

            return id;
        }

        private HttpRequestMessage Command(string callControlId, string action, object body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"{env.Telnyx.ApiBaseUrl}/calls/{Uri.EscapeDataString(callControlId)}/actions/{action}") { Content = JsonContent.Create(body) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", env.Telnyx.ApiKey);
            return request;
        }

        /// <summary>A WAV (format 7, G.711 µ-law, 8 kHz mono) around the raw audio.</summary>
        private static byte[] MuLawWav(byte[] audio)
        {
            var wav = new byte[44 + audio.Length];
            "RIFF"u8.CopyTo(wav);
            BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(4), 36 + audio.Length);
            "WAVEfmt "u8.CopyTo(wav.AsSpan(8));
            BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(16), 16);
            BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(20), 7);
            BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(22), 1);
            BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(24), 8000);
            BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(28), 8000);
            BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(32), 1);
            BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(34), 8);
            "data"u8.CopyTo(wav.AsSpan(36));
            BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(40), audio.Length);
            audio.CopyTo(wav, 44);
            return wav;
        }
    }
}
