using System.Globalization;
using System.Text.Json.Nodes;

namespace TelnyxAiService.Emulators.Telnyx;

/// <summary>What a dial asked for, validated.</summary>
internal sealed record DialParameters(
    string ConnectionId,
    string From,
    string To,
    string? ClientState,
    Uri WebhookUrl,
    string? CommandId,
    Uri? StreamUrl,
    string? StreamTrack,
    string? StreamCodec,
    string? StreamBidirectionalMode,
    string? StreamBidirectionalCodec,
    int? StreamSampleRate,
    string? StreamAuthToken);

/// <summary>
/// One call on the emulator, with its scripted other party: an outbound call placed by a dial (the callee), or an
/// incoming one (the caller) parked until the app answers it. Tests and the media-stream caller use it to read what
/// was dialled or answered with, send extra events and hang up as the other party.
/// </summary>
public sealed class EmulatedCall
{
    private readonly TaskCompletionSource _answerCommand = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TelnyxEmulatorOptions _options;
    private readonly BackgroundWork _work;
    private readonly WebhookQueue _webhooks;
    private readonly Func<Func<EmulatedCall, CancellationToken, Task>?> _mediaCallee;
    private readonly CancellationTokenSource _ended;
    private readonly CancellationToken _stopping;
    private readonly SemaphoreSlim _audioOut = new(1, 1);
    private readonly RecordLog<AudioFetch> _fetches = new();
    private readonly Lock _gate = new();
    private CancellationTokenSource _playbacks = new();
    private CancellationTokenSource? _stream;
    private DialParameters _dial;
    private bool _answerReceived;
    private bool _agentFinishedTalking;
    private bool _lineInFlight;
    private int _linesSaid;

    internal EmulatedCall(
        DialParameters dial,
        CalleeScript script,
        TelnyxEmulatorOptions options,
        BackgroundWork work,
        WebhookQueue webhooks,
        Func<Func<EmulatedCall, CancellationToken, Task>?> mediaCallee,
        CancellationToken stopping,
        bool incoming)
    {
        Direction = incoming ? "incoming" : "outgoing";
        State = incoming ? "parked" : "bridging";
        _dial = dial;
        _options = options;
        _work = work;
        _webhooks = webhooks;
        _mediaCallee = mediaCallee;
        _stopping = stopping;
        _ended = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Script = script;
        CallControlId = NewCallControlId();
        CallLegId = Guid.NewGuid().ToString();
        CallSessionId = Guid.NewGuid().ToString();
        StartTime = options.TimeProvider.GetUtcNow();
    }

    /// <summary>Looks like Telnyx's: "v3:" and a token with '-' and '_' in it, so it must be URL-encoded.</summary>
    public string CallControlId { get; }

    public string CallLegId { get; }

    public string CallSessionId { get; }

    public string ConnectionId => _dial.ConnectionId;

    /// <summary>"outgoing" for a dialled call, "incoming" for one placed with <see cref="TelnyxEmulator.PlaceInboundCall"/>.</summary>
    public string Direction { get; }

    public string From => _dial.From;

    public string To => _dial.To;

    /// <summary>The client_state as dialled or answered (base64), echoed in every later webhook; null when none was given.</summary>
    public string? ClientState => _dial.ClientState;

    public Uri WebhookUrl => _dial.WebhookUrl;

    public string? DialCommandId => _dial.CommandId;

    public Uri? StreamUrl => _dial.StreamUrl;

    public string? StreamAuthToken => _dial.StreamAuthToken;

    public string? StreamTrack => _dial.StreamTrack;

    public string? StreamCodec => _dial.StreamCodec;

    public string? StreamBidirectionalMode => _dial.StreamBidirectionalMode;

    public string? StreamBidirectionalCodec => _dial.StreamBidirectionalCodec;

    /// <summary>The bidirectional sampling rate: as dialled, else the codec's own (16 kHz for L16, 8 kHz otherwise).</summary>
    public int StreamSampleRate => _dial.StreamSampleRate ?? (StreamBidirectionalCodec == "L16" ? 16000 : 8000);

    public CalleeScript Script { get; }

    public DateTimeOffset StartTime { get; }

    public DateTimeOffset? AnsweredAt { get; private set; }

    public DateTimeOffset? EndTime { get; private set; }

    /// <summary>"bridging" (dialled) or "parked" (incoming), then "answered" and "hangup".</summary>
    public string State { get; private set; } = "bridging";

    public bool IsAlive => EndTime is null;

    public string? HangupCause { get; private set; }

    public string? HangupSource { get; private set; }

    public bool TranscriptionActive { get; private set; }

    /// <summary>
    /// Media streams opened on this call so far: 1 once the stream of the dial or answer started, one more for each
    /// <c>streaming_start</c>. A media callee's script factory reads it to tell a resumed stream from the first one.
    /// </summary>
    public int StreamsStarted { get; private set; }

    /// <summary>Cancelled when the call ends (or the emulator stops).</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>Every GET of a playback_start audio_url, in order.</summary>
    public IReadOnlyList<AudioFetch> AudioFetches => _fetches.Snapshot();

    /// <summary>Queues a webhook for this call: the common payload keys plus <paramref name="extraPayload"/>.</summary>
    public async Task SendEventAsync(string eventType, IReadOnlyDictionary<string, JsonNode?> extraPayload, CancellationToken cancellationToken)
    {
        var payload = new JsonObject
        {
            ["call_control_id"] = CallControlId,
            ["call_leg_id"] = CallLegId,
            ["call_session_id"] = CallSessionId,
            ["client_state"] = ClientState,
            ["connection_id"] = ConnectionId,
            ["calling_party_type"] = "pstn",
            ["from"] = From,
            ["to"] = To,
        };
        foreach (var (key, value) in extraPayload)
        {
            payload[key] = value?.DeepClone(); // a node has one parent, and callers send the same fields twice
        }

        var id = Guid.NewGuid().ToString();
        var data = new JsonObject
        {
            ["event_type"] = eventType,
            ["id"] = id,
            ["occurred_at"] = Timestamp(_options.TimeProvider.GetUtcNow()),
            ["payload"] = payload,
            ["record_type"] = "event",
        };
        await _webhooks.EnqueueAsync(new PendingWebhook(eventType, id, CallControlId, data.ToJsonString()), cancellationToken);
    }

    /// <summary>
    /// The other party hangs up: the callee of a dialled call (hangup_source callee), the caller of an incoming one
    /// (hangup_source caller). Does nothing when the call has already ended.
    /// </summary>
    public Task CalleeHangUpAsync(string cause, CancellationToken cancellationToken) =>
        EndAsync(cause, TheirSide, cancellationToken);

    /// <summary>The hangup_source of the app's own hangup: it is the caller of a dialled call, the callee of an incoming one.</summary>
    internal string OurSide => Direction == "incoming" ? "callee" : "caller";

    private string TheirSide => Direction == "incoming" ? "caller" : "callee";

    internal static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    internal void Start()
    {
        _work.Run(() => _webhooks.RunAsync(_stopping));
        _work.Run(() => RunCalleeAsync(Ended));
    }

    internal async Task<bool> EndAsync(string cause, string source, CancellationToken cancellationToken)
    {
        DateTimeOffset end;
        lock (_gate)
        {
            if (EndTime is not null)
            {
                return false;
            }

            end = _options.TimeProvider.GetUtcNow();
            EndTime = end;
            State = "hangup";
            HangupCause = cause;
            HangupSource = source;
        }

        await SendEventAsync("call.hangup", new Dictionary<string, JsonNode?>
        {
            ["hangup_cause"] = cause,
            ["hangup_source"] = source,
            ["sip_hangup_cause"] = cause switch
            {
                "normal_clearing" => "200",
                "user_busy" => "486",
                "no_answer" => "480",
                "call_rejected" => "603",
                _ => "unspecified",
            },
            ["start_time"] = Timestamp(StartTime),
            ["end_time"] = Timestamp(end),
            ["state"] = "hangup",
            ["call_quality_stats"] = AnsweredAt is null ? null : new JsonObject
            {
                ["inbound"] = new JsonObject
                {
                    ["jitter_max_variance"] = "0.54",
                    ["jitter_packet_count"] = "0",
                    ["mos"] = "4.50",
                    ["packet_count"] = ((long)((end - AnsweredAt.Value).TotalMilliseconds / 20)).ToString(CultureInfo.InvariantCulture),
                    ["skip_packet_count"] = "0",
                },
                ["outbound"] = new JsonObject
                {
                    ["packet_count"] = ((long)((end - AnsweredAt.Value).TotalMilliseconds / 20)).ToString(CultureInfo.InvariantCulture),
                    ["skip_packet_count"] = "0",
                },
            },
        }, cancellationToken);
        await _ended.CancelAsync();
        return true;
    }

    /// <summary>The app answers a parked incoming call: its client_state and stream fields hold from now on.</summary>
    internal void Answer(string? clientState, Uri? streamUrl, string? track, string? codec, string? mode, string? bidirectionalCodec)
    {
        lock (_gate)
        {
            if (State != "parked" || _answerReceived)
            {
                return;
            }

            _answerReceived = true;
            _dial = _dial with
            {
                ClientState = clientState,
                StreamUrl = streamUrl,
                StreamTrack = track,
                StreamCodec = codec,
                StreamBidirectionalMode = mode,
                StreamBidirectionalCodec = bidirectionalCodec,
            };
        }

        _answerCommand.TrySetResult();
    }

    /// <summary>
    /// <c>streaming_start</c>: the call streams to a new URL with these settings (omitted ones back to Telnyx's
    /// defaults) and the media callee connects to it. Only one stream runs per call, so a stream still open is stopped.
    /// False when the call has not been answered.
    /// </summary>
    internal bool StartStreaming(Uri streamUrl, string? track, string? codec, string? mode, string? bidirectionalCodec, int? sampleRate, string? authToken)
    {
        lock (_gate)
        {
            if (State != "answered")
            {
                return false;
            }

            _dial = _dial with
            {
                StreamUrl = streamUrl,
                StreamTrack = track,
                StreamCodec = codec,
                StreamBidirectionalMode = mode,
                StreamBidirectionalCodec = bidirectionalCodec,
                StreamSampleRate = sampleRate,
                StreamAuthToken = authToken,
            };
        }

        StartMedia();
        return true;
    }

    internal void Speak(string text) => _work.Run(() => SpeakAsync(text));

    internal void Playback(Uri? audioUrl, string? mediaName, HttpClient http) => _work.Run(() => PlaybackAsync(audioUrl, mediaName, http));

    internal void StopPlayback()
    {
        CancellationTokenSource stopped;
        lock (_gate)
        {
            stopped = _playbacks;
            _playbacks = new CancellationTokenSource();
        }

        stopped.Cancel();
    }

    internal void SetTranscription(bool active)
    {
        lock (_gate)
        {
            TranscriptionActive = active;
        }

        if (active)
        {
            TryAdvanceCallee();
        }
    }

    internal void Transfer() => _work.Run(async () =>
    {
        await Task.Delay(_options.TransferHangupDelay, _options.TimeProvider, Ended);
        await EndAsync("normal_clearing", OurSide, CancellationToken.None);
    });

    private static string NewCallControlId()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        string Token(int length) => string.Create(length, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[Random.Shared.Next(alphabet.Length)];
            }
        });
        return $"v3:{Token(3)}-{Token(18)}_{Token(8)}-{Token(20)}";
    }

    private async Task RunCalleeAsync(CancellationToken ended)
    {
        if (Direction == "incoming")
        {
            await SendEventAsync("call.initiated", new Dictionary<string, JsonNode?>
            {
                ["caller_id_name"] = From,
                ["connection_codecs"] = "PCMA,PCMU",
                ["direction"] = "incoming",
                ["from_sip_uri"] = $"{From.TrimStart('+')}@192.0.2.1:5060",
                ["offered_codecs"] = "PCMU,PCMA",
                ["start_time"] = Timestamp(StartTime),
                ["state"] = "parked",
                ["to_sip_uri"] = $"{To}@192.0.2.10:5060",
            }, ended);
            await _answerCommand.Task.WaitAsync(ended);
        }
        else
        {
            await SendEventAsync("call.initiated", new Dictionary<string, JsonNode?>
            {
                ["direction"] = "outgoing",
                ["state"] = "bridging",
                ["start_time"] = Timestamp(StartTime),
            }, ended);
            await Task.Delay(Script.AnswerAfter, _options.TimeProvider, ended);
            switch (Script.Outcome)
            {
                case CalleeOutcome.Busy:
                    await EndAsync("user_busy", "callee", ended);
                    return;
                case CalleeOutcome.NoAnswer:
                    await EndAsync("no_answer", "callee", ended);
                    return;
            }
        }

        lock (_gate)
        {
            AnsweredAt = _options.TimeProvider.GetUtcNow();
            State = "answered";
        }

        await SendEventAsync("call.answered", new Dictionary<string, JsonNode?>
        {
            ["codec"] = StreamCodec is "PCMA" ? "PCMA" : "PCMU",
            ["sampling_rate"] = 8000,
            ["start_time"] = Timestamp(StartTime),
        }, ended);

        if (StreamUrl is not null)
        {
            StartMedia();
        }

        if (_options.MaxCallDuration is { } limit)
        {
            await Task.Delay(limit, _options.TimeProvider, ended);
            await EndAsync("time_limit", "unknown", CancellationToken.None);
        }
    }

    /// <summary>Counts a new stream, stops the one before it and runs the media callee on it until the call ends or the stream is replaced.</summary>
    private void StartMedia()
    {
        CancellationTokenSource? previous;
        CancellationTokenSource stream;
        lock (_gate)
        {
            previous = _stream;
            _stream = stream = CancellationTokenSource.CreateLinkedTokenSource(Ended);
            StreamsStarted++;
        }

        previous?.Cancel();
        if (_mediaCallee() is { } media)
        {
            _work.Run(() => media(this, stream.Token));
        }
    }

    private async Task SpeakAsync(string text)
    {
        var finished = false;
        try
        {
            await _audioOut.WaitAsync(Ended);
            try
            {
                await SendEventAsync("call.speak.started", new Dictionary<string, JsonNode?>(), CancellationToken.None);
                await Task.Delay(_options.SpeakTimePerCharacter * text.Length, _options.TimeProvider, Ended);
                finished = true;
            }
            finally
            {
                _audioOut.Release();
            }
        }
        catch (OperationCanceledException) when (Ended.IsCancellationRequested)
        {
        }

        await SendEventAsync("call.speak.ended", new Dictionary<string, JsonNode?> { ["status"] = finished ? "completed" : "call_hangup" }, CancellationToken.None);
        if (finished)
        {
            AgentFinishedTalking();
        }
    }

    private async Task PlaybackAsync(Uri? audioUrl, string? mediaName, HttpClient http)
    {
        CancellationToken stop;
        lock (_gate)
        {
            stop = _playbacks.Token;
        }

        using var playing = CancellationTokenSource.CreateLinkedTokenSource(Ended, stop);
        var fields = new Dictionary<string, JsonNode?> { ["media_url"] = audioUrl?.ToString(), ["media_name"] = mediaName, ["overlay"] = false };
        string status;
        try
        {
            await _audioOut.WaitAsync(playing.Token);
            try
            {
                await SendEventAsync("call.playback.started", fields, CancellationToken.None);
                status = audioUrl is null || await FetchAsync(audioUrl, http, playing.Token) ? "completed" : "file_not_found";
                if (status == "completed")
                {
                    await Task.Delay(_options.PlaybackDuration, _options.TimeProvider, playing.Token);
                }
            }
            finally
            {
                _audioOut.Release();
            }
        }
        catch (OperationCanceledException) when (playing.IsCancellationRequested)
        {
            status = Ended.IsCancellationRequested ? "call_hangup" : "cancelled";
        }

        await SendEventAsync("call.playback.ended", new Dictionary<string, JsonNode?>(fields) { ["status"] = status }, CancellationToken.None);
        if (status == "completed")
        {
            AgentFinishedTalking();
        }
    }

    private async Task<bool> FetchAsync(Uri audioUrl, HttpClient http, CancellationToken cancellationToken)
    {
        int? status = null;
        var bytes = 0;
        try
        {
            using var response = await http.GetAsync(audioUrl, cancellationToken);
            status = (int)response.StatusCode;
            bytes = (await response.Content.ReadAsByteArrayAsync(cancellationToken)).Length;
        }
        catch (HttpRequestException)
        {
        }

        _fetches.Add(new AudioFetch(_options.TimeProvider.GetUtcNow(), audioUrl, status, bytes));
        return status is >= 200 and < 300 && bytes > 0;
    }

    private void AgentFinishedTalking()
    {
        lock (_gate)
        {
            _agentFinishedTalking = true;
        }

        TryAdvanceCallee();
    }

    /// <summary>The webhook-mode callee says its next line, or hangs up after the reply to its last one.</summary>
    private void TryAdvanceCallee()
    {
        string? line;
        lock (_gate)
        {
            if (!IsAlive || StreamUrl is not null || !TranscriptionActive || _lineInFlight || !_agentFinishedTalking || Script.Lines.Count == 0)
            {
                return;
            }

            _agentFinishedTalking = false;
            _lineInFlight = true;
            line = _linesSaid < Script.Lines.Count ? Script.Lines[_linesSaid++] : null;
        }

        _work.Run(() => line is null ? HangUpAfterLastLineAsync() : SayLineAsync(line));
    }

    private async Task HangUpAfterLastLineAsync()
    {
        await Task.Delay(_options.LineDelay, _options.TimeProvider, Ended);
        await EndAsync("normal_clearing", TheirSide, CancellationToken.None);
    }

    private async Task SayLineAsync(string line)
    {
        await Task.Delay(_options.LineDelay, _options.TimeProvider, Ended);
        if (_options.InterimTranscripts)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            await SendTranscriptionAsync(string.Join(' ', words.Take(Math.Max(1, words.Length / 2))), 0.7, isFinal: false);
            await Task.Delay(_options.LineDelay / 2, _options.TimeProvider, Ended);
        }

        await SendTranscriptionAsync(line, 0.9, isFinal: true);
        lock (_gate)
        {
            _lineInFlight = false;
            _agentFinishedTalking = false;
        }
    }

    private Task SendTranscriptionAsync(string transcript, double confidence, bool isFinal) =>
        SendEventAsync("call.transcription", new Dictionary<string, JsonNode?>
        {
            ["transcription_data"] = new JsonObject
            {
                ["transcript"] = transcript,
                ["confidence"] = confidence,
                ["is_final"] = isFinal,
                ["transcription_track"] = "inbound",
            },
        }, Ended);
}
