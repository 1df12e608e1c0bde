using System.Threading.Channels;
using TelnyxAiService.Audio;
using TelnyxAiService.Llm;
using TelnyxAiService.Providers;
using TelnyxAiService.Speech;
using TelnyxAiService.Telephony;
using TelnyxAiService.Voice;

namespace TelnyxAiService.Conversation;

/// <summary>
/// The conversation on a call's media stream. Everything that happens (our voice detector, the recogniser's events,
/// marks and digits from the far end, timers) becomes an input to one loop, which alone decides: when the caller's
/// turn ends, when to start (or speculatively pre-start) a reply, when to pause, resume or cut the agent on barge-in,
/// and what the caller actually heard.
/// </summary>
public sealed partial class StreamConversation
{
    private static readonly TimeSpan BargeInLongSpeech = TimeSpan.FromMilliseconds(1200);
    private static readonly TimeSpan RecogniserCatchUp = TimeSpan.FromMilliseconds(450);

    private readonly CallSession _session;
    private readonly ICallAudio _audio;
    private readonly ConversationServices _services;
    private readonly ConversationOptions _options;
    private readonly Phrases _phrases;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Input> _inbox = Channel.CreateBounded<Input>(new BoundedChannelOptions(1024) { SingleReader = true });
    private readonly List<ITimer> _timers = [];
    private readonly System.Text.StringBuilder _segments = new();
    private readonly ReplySpeaker _speaker;
    private readonly List<Task> _discarded = [];

    private string _interim = "";
    private string? _carried;
    private bool _turnOpen;
    private bool _voiceActive;
    private DateTimeOffset? _lastVoiceAt;
    private Reply? _reply;
    private BargeIn? _bargeIn;
    private int _nextReplyId;
    private int _interimVersion;
    private DateTimeOffset _lastTranscriptAt;
    private int _idleVersion;
    private bool _idlePrompted;

    internal StreamConversation(CallSession session, ICallAudio audio, ConversationServices services)
    {
        _session = session;
        _audio = audio;
        _services = services;
        _options = services.Options;
        _phrases = Phrases.For(_options.Language);
        _time = services.Time;
        _logger = services.Logger;
        _speaker = new ReplySpeaker(session, audio, services, _phrases);
    }

    public abstract record Input;

    /// <summary>The call reached its time limit: say goodbye and hang up.</summary>
    public sealed record TimeLimit : Input;

    private sealed record VoiceStarted : Input;

    private sealed record VoiceEnded(DateTimeOffset LastVoiceAt) : Input;

    private sealed record Heard(SpeechEvent Event) : Input;

    private sealed record FromStream(CallAudioSignal Signal) : Input;

    private sealed record ReplyQueued(Reply Reply) : Input;

    private sealed record EarsLost(ProviderException Error) : Input;

    private sealed record InterimStable(int Version) : Input;

    private sealed record OpenReply(Reply Reply) : Input;

    private sealed record CheckBargeIn(BargeIn State) : Input;

    private sealed record IdleCheck(int Version) : Input;

    private sealed record BargeIn(DateTimeOffset StartedAt);

    public bool Post(Input input) => _inbox.Writer.TryWrite(input);

    /// <summary>Runs until the stream stops or the call ends; always leaves no reply or loop running.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toRecogniser = Channel.CreateBounded<AudioFrame>(new BoundedChannelOptions(500) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
        Task[] loops =
        [
            ListenAsync(toRecogniser.Writer, cts.Token),
            RecogniseAsync(toRecogniser.Reader, cts.Token),
            ReadSignalsAsync(cts.Token),
        ];
        StartReply(callerText: null, fixedText: _session.Greeting, speculative: false);
        try
        {
            await foreach (var input in _inbox.Reader.ReadAllAsync(cts.Token))
            {
                if (!await HandleAsync(input))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }
        finally
        {
            if (_reply is { } reply)
            {
                await StopReplyAsync(reply);
            }

            await cts.CancelAsync();
            foreach (var timer in _timers)
            {
                await timer.DisposeAsync();
            }

            await Task.WhenAll([.. loops, .. _discarded]);
        }
    }

    private async Task<bool> HandleAsync(Input input)
    {
        switch (input)
        {
            case VoiceStarted:
                _voiceActive = true;
                _idleVersion++;
                if (_reply is { Speculative: false } && _bargeIn is null)
                {
                    StartBargeIn();
                }

                break;
            case VoiceEnded ended:
                _voiceActive = false;
                _lastVoiceAt = ended.LastVoiceAt;
                if (_reply is { OriginProvisional: true } answering)
                {
                    answering.Origin = ended.LastVoiceAt;
                    answering.OriginProvisional = false;
                }

                if (_bargeIn is { } pending)
                {
                    After(RecogniserCatchUp, new CheckBargeIn(pending));
                }

                TrySpeculate();

                break;
            case Heard heard:
                await OnSpeechAsync(heard.Event);
                break;
            case InterimStable stable when stable.Version == _interimVersion:
                TrySpeculate();
                break;
            case OpenReply open when open.Reply == _reply && _bargeIn is null && !open.Reply.Speculative:
                open.Reply.OpenAt = _time.GetUtcNow();
                open.Reply.Open();
                break;
            case CheckBargeIn check when check.State == _bargeIn:
                await ResolveBargeInAsync(check.State);
                break;
            case ReplyQueued queued when queued.Reply == _reply:
                queued.Reply.AllQueued = true;
                await OnReplyProgressAsync(queued.Reply);
                break;
            case FromStream { Signal: MarkPlayed mark }:
                if (Reply.TryParseMark(mark.Name, out var replyId, out var sentence) && _reply is { } current && current.Id == replyId)
                {
                    current.MarkHeard(sentence);
                    await OnReplyProgressAsync(current);
                }

                break;
            case FromStream { Signal: AgentAudioStarted started }:
                if (_reply is { FirstFrameAt: null } playing && playing.IsOpen)
                {
                    playing.FirstFrameAt = started.At;
                    if (playing.CallerText is not null)
                    {
                        var latency = playing.Latency();
                        _services.Stats.TurnMeasured(latency.FirstAgentFrame!.Value);
                        LogTurn(_session.CallId, playing.Id, latency);
                    }
                }

                break;
            case FromStream { Signal: DigitReceived digit }:
                _turnOpen = true;
                _segments.Append($" [pressed {digit.Digit}]");
                _lastVoiceAt = _time.GetUtcNow();
                await EndTurnAsync();
                break;
            case FromStream { Signal: StreamStopped }:
                return false;
            case IdleCheck idle when idle.Version == _idleVersion && _reply is null && !_voiceActive && !_turnOpen:
                if (_idlePrompted)
                {
                    StartReply(null, _phrases.IdleGoodbye, speculative: false).EndCall = true;
                    _reply!.EndReason = CallEndReason.IdleTimeout;
                }
                else
                {
                    _idlePrompted = true;
                    StartReply(null, _phrases.AreYouStillThere, speculative: false);
                }

                break;
            case TimeLimit:
                if (_reply is { } cut)
                {
                    await CutReplyAsync(cut);
                }

                StartReply(null, _phrases.TimeLimitGoodbye, speculative: false).EndCall = true;
                _reply!.EndReason = CallEndReason.TimeLimit;
                break;
            case EarsLost lost:
                LogRecogniserLost(_session.CallId, lost.Error.Provider, lost.Error);
                if (_reply is { } interrupted)
                {
                    await CutReplyAsync(interrupted);
                }

                StartReply(null, _phrases.StreamFailed, speculative: false).EndCall = true;
                _reply!.EndReason = CallEndReason.StreamFailed;
                break;
        }

        return true;
    }

    private async Task OnSpeechAsync(SpeechEvent speechEvent)
    {
        switch (speechEvent)
        {
            case SpeechStarted when _reply is { Speculative: false, FirstFrameAt: not null } && _bargeIn is null:
                StartBargeIn();
                break;
            case TranscriptUpdate update:
                await OnTranscriptAsync(update);
                break;
            case UtteranceEnded when _turnOpen && TurnTextSoFar().Length > 0:
                await EndTurnAsync();
                break;
        }
    }

    private async Task OnTranscriptAsync(TranscriptUpdate update)
    {
        var text = update.Text.Trim();
        if (text.Length == 0 && !update.SpeechFinal)
        {
            return;
        }

        if (_reply is { Speculative: false } active)
        {
            var words = TurnText.Join(_segments.ToString(), text);
            var backchannel = words.Length == 0 || Backchannel.IsBackchannel(words);
            if (!backchannel)
            {
                await CutReplyAsync(active);
            }
            else if (update.IsFinal)
            {
                if (_bargeIn is not null)
                {
                    Resume();
                }

                _interim = "";
                return;
            }
            else
            {
                return;
            }
        }

        _idlePrompted = false;
        _turnOpen = true;
        _lastTranscriptAt = _time.GetUtcNow();
        if (update.IsFinal)
        {
            _segments.Append(' ').Append(text);
            _interim = "";
        }
        else
        {
            _interim = text;
        }

        if (_reply is { Speculative: true } speculative && !TurnText.SameWords(speculative.CallerText!, TurnTextSoFar()))
        {
            Discard(speculative);
            _reply = null;
        }

        if (update.SpeechFinal)
        {
            await EndTurnAsync();
            return;
        }

        _interimVersion++;
        TrySpeculate();
    }

    /// <summary>
    /// Speculation: once our detector hears silence and the words have not changed for a moment, start the reply on
    /// them while the recogniser is still deciding the turn has ended. It is heard only if the final words match.
    /// </summary>
    private void TrySpeculate()
    {
        if (_options.SpeculativeDelay <= TimeSpan.Zero || !_turnOpen || _voiceActive || _reply is not null || _bargeIn is not null)
        {
            return;
        }

        var text = TurnTextSoFar();
        var stableFor = _time.GetUtcNow() - _lastTranscriptAt;
        if (TurnText.Words(text).Count < 2)
        {
            return;
        }

        if (stableFor >= _options.SpeculativeDelay)
        {
            StartReply(text, fixedText: null, speculative: true);
        }
        else
        {
            After(_options.SpeculativeDelay - stableFor, new InterimStable(_interimVersion));
        }
    }

    private string TurnTextSoFar() => TurnText.Join(_carried, TurnText.Join(_segments.ToString(), _interim));

    /// <summary>The caller finished: answer the whole turn once, reusing a speculative reply that guessed it right.</summary>
    private async Task EndTurnAsync()
    {
        var text = TurnTextSoFar();
        _turnOpen = false;
        _segments.Clear();
        _interim = "";
        _interimVersion++;
        if (text.Length == 0)
        {
            return;
        }

        _carried = null;
        var now = _time.GetUtcNow();
        if (_reply is { Speculative: true } speculative && TurnText.SameWords(speculative.CallerText!, text))
        {
            speculative.Speculative = false;
            Commit(speculative, now);
            return;
        }

        if (_reply is { } previous)
        {
            await CutReplyAsync(previous);
        }

        var reply = StartReply(text, null, speculative: false);
        reply.DecidedAt = now;
    }

    private Reply StartReply(string? callerText, string? fixedText, bool speculative)
    {
        var reply = new Reply(++_nextReplyId, callerText, fixedText, speculative, _session.Ending);
        _reply = reply;
        _idleVersion++;
        reply.Run = _speaker.SpeakAsync(reply, () => Post(new ReplyQueued(reply)), reply.Cancellation.Token);
        if (!speculative)
        {
            Commit(reply, _time.GetUtcNow());
        }

        return reply;
    }

    /// <summary>The reply will answer this turn: it may be heard once the caller has been quiet for the hold time.</summary>
    private void Commit(Reply reply, DateTimeOffset now)
    {
        // While our detector still hears the caller (its end comes ~300 ms after the last word), hold from now; the
        // latency origin is corrected when the end arrives.
        reply.OriginProvisional = _voiceActive;
        reply.Origin = _voiceActive ? now : _lastVoiceAt ?? now;
        reply.DecidedAt ??= now;
        var openAt = reply.CallerText is null ? now : reply.Origin + _options.TurnHold;
        if (openAt <= now)
        {
            Post(new OpenReply(reply));
        }
        else
        {
            After(openAt - now, new OpenReply(reply));
        }
    }

    private void StartBargeIn()
    {
        _audio.Pause();
        _bargeIn = new BargeIn(_time.GetUtcNow());
        After(_options.BargeInGrace, new CheckBargeIn(_bargeIn));
    }

    /// <summary>No words that interrupt: resume after noise; keep waiting while the caller is still speaking, up to a point.</summary>
    private async Task ResolveBargeInAsync(BargeIn state)
    {
        if (_voiceActive && _time.GetUtcNow() - state.StartedAt >= BargeInLongSpeech && _reply is { } reply)
        {
            await CutReplyAsync(reply);
            return;
        }

        if (_voiceActive)
        {
            After(TimeSpan.FromMilliseconds(200), new CheckBargeIn(state));
            return;
        }

        Resume();
    }

    private void Resume()
    {
        _bargeIn = null;
        _audio.Resume();
        if (_reply is { Speculative: false, IsOpen: false } reply)
        {
            Commit(reply, _time.GetUtcNow());
        }
    }

    /// <summary>
    /// Barge-in: stop the reply, drop its queued audio, keep only what the caller heard. A reply still held back (the
    /// caller resumed within the hold) never sent a frame, so there is nothing for Telnyx to clear.
    /// </summary>
    private async Task CutReplyAsync(Reply reply)
    {
        _bargeIn = null;
        if (reply.IsOpen)
        {
            await StopReplyAsync(reply);
            await _audio.ClearAsync(_session.Ending);
        }
        else
        {
            Discard(reply);
        }

        _audio.Resume();
        Finish(reply, interrupted: true);
        LogBargeIn(_session.CallId, reply.Id);
    }

    /// <summary>
    /// Cancels a reply that was never let through its gate, so it cannot have sent audio: the next reply need not wait
    /// for it to wind down (it is awaited when the conversation ends).
    /// </summary>
    private void Discard(Reply reply)
    {
        reply.Cancellation.Cancel();
        _discarded.Add(reply.Run.ContinueWith(_ => reply.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default));
    }

    private static async Task StopReplyAsync(Reply reply)
    {
        await reply.Cancellation.CancelAsync();
        await reply.Run;
        reply.Dispose();
    }

    private async Task OnReplyProgressAsync(Reply reply)
    {
        if (!reply.FullyHeard)
        {
            return;
        }

        Finish(reply, interrupted: false);
        reply.Dispose();
        if (reply.Transfer && _options.TransferNumber is { } transferTo)
        {
            await EndCallAsync(CallEndReason.Transferred, ct => _services.CallControl.TransferAsync(_session.CallControlId!, transferTo, ct));
        }
        else if (reply.EndCall)
        {
            await EndCallAsync(reply.EndReason, ct => _services.CallControl.HangupAsync(_session.CallControlId!, ct));
        }
        else
        {
            After(_options.IdleTimeout, new IdleCheck(++_idleVersion));
        }
    }

    /// <summary>Hangs up or transfers; the session ends either way, even if Telnyx refuses the command.</summary>
    private async Task EndCallAsync(CallEndReason reason, Func<CancellationToken, Task> command)
    {
        try
        {
            await command(_session.Ending);
        }
        catch (Exception e) when (ProviderException.Of("telnyx", e, _session.Ending) is { } failure)
        {
            LogEndCommandFailed(_session.CallId, reason, failure.Provider, failure);
        }

        _session.End(reason);
    }

    /// <summary>Writes what was heard into the history. A reply nobody heard leaves the caller's words pending.</summary>
    private void Finish(Reply reply, bool interrupted)
    {
        if (_reply == reply)
        {
            _reply = null;
        }

        var heard = reply.HeardText(all: !interrupted);
        if (heard.Length > 0 || reply.SpokenByTelephony)
        {
            if (reply.CallerText is not null)
            {
                _session.AddToHistory(new ChatMessage(Speaker.Caller, reply.CallerText));
            }

            var latency = reply.CallerText is not null && reply.FirstFrameAt is not null ? reply.Latency() : null;
            _session.AddToHistory(new ChatMessage(Speaker.Agent, heard.Length > 0 ? heard : reply.HeardText(all: true), interrupted), latency);
        }
        else if (reply.CallerText is not null && !reply.Speculative)
        {
            _carried = TurnText.Join(reply.CallerText, _carried ?? "");
            _turnOpen = true;
        }
    }

    /// <summary>Caller audio: to the recogniser (dropping the oldest if it falls behind) and through our voice detector.</summary>
    private async Task ListenAsync(ChannelWriter<AudioFrame> toRecogniser, CancellationToken ct)
    {
        try
        {
            var detector = new VoiceActivityDetector(_audio.Format.SampleRate);
            var audioTime = TimeSpan.Zero;
            await foreach (var frame in _audio.CallerAudio.ReadAllAsync(ct))
            {
                toRecogniser.TryWrite(frame);
                audioTime += frame.Duration;
                switch (detector.Push(frame))
                {
                    case { Kind: VadEventKind.SpeechStart }:
                        Post(new VoiceStarted());
                        break;
                    case { Kind: VadEventKind.SpeechEnd } end:
                        Post(new VoiceEnded(_time.GetUtcNow() - (audioTime - end.At)));
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            toRecogniser.TryComplete();
        }
    }

    private async Task RecogniseAsync(ChannelReader<AudioFrame> frames, CancellationToken ct)
    {
        try
        {
            await foreach (var speechEvent in _services.SpeechToText.TranscribeAsync(_audio.Format, frames.ReadAllAsync(ct), ct))
            {
                Post(new Heard(speechEvent));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (ProviderException.Of(_services.SpeechToText.GetType().Name, e, ct) is { } failure)
        {
            Post(new EarsLost(failure));
        }
    }

    private async Task ReadSignalsAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var signal in _audio.Signals.ReadAllAsync(ct))
            {
                Post(new FromStream(signal));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        Post(new FromStream(new StreamStopped()));
    }

    private void After(TimeSpan delay, Input input) =>
        _timers.Add(_time.CreateTimer(_ => Post(input), null, delay, Timeout.InfiniteTimeSpan));

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId} reply {Reply}: {Latency}")]
    private partial void LogTurn(string callId, int reply, TurnLatency latency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Call {CallId}: the caller interrupted reply {Reply}")]
    private partial void LogBargeIn(string callId, int reply);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId}: ending the call ({Reason}) failed ({Provider})")]
    private partial void LogEndCommandFailed(string callId, CallEndReason reason, string provider, ProviderException exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId}: speech recognition ({Provider}) was lost")]
    private partial void LogRecogniserLost(string callId, string provider, ProviderException exception);
}

/// <summary>What every stream conversation needs; one instance for the service.</summary>
public sealed class ConversationServices(
    ISpeechToText speechToText,
    ITextToSpeech textToSpeech,
    IAgent agent,
    ICallControl callControl,
    ConversationOptions options,
    CallStats stats,
    TimeProvider time,
    ILogger<StreamConversation> logger)
{
    public ISpeechToText SpeechToText => speechToText;

    public ITextToSpeech TextToSpeech => textToSpeech;

    public IAgent Agent => agent;

    public ICallControl CallControl => callControl;

    public ConversationOptions Options => options;

    public CallStats Stats => stats;

    public TimeProvider Time => time;

    public ILogger Logger => logger;

    /// <summary>Runs the conversation on a newly attached media stream until it stops or the call ends.</summary>
    public async Task ConverseAsync(CallSession session, ICallAudio audio, CancellationToken cancellationToken)
    {
        var conversation = new StreamConversation(session, audio, this);
        session.Stream = conversation;
        try
        {
            await conversation.RunAsync(cancellationToken);
        }
        finally
        {
            session.Stream = null;
        }
    }
}
