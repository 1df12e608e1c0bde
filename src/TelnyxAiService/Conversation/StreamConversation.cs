using System.Threading.Channels;
using TelnyxAiService.LiveCalls;
using TelnyxAiService.Speech;

namespace TelnyxAiService.Conversation;

/// <summary>
/// The conversation on a call's media stream. Everything that happens (what the <see cref="CallListener"/> hears, the
/// parts' timers, the speaker's progress) becomes an input to one loop, which owns the call's state and hands each input
/// to the part concerned: the <see cref="TurnTaker"/> (the caller's words, when the turn ends, when to speculate),
/// <see cref="BargeIn"/> (pause, then resume or cut), the <see cref="ReplyRunner"/> (the agent's replies and what the
/// caller heard of them), the <see cref="IdleMonitor"/> (silence) and the <see cref="CallEnder"/> (hang up or transfer).
/// </summary>
public sealed class StreamConversation
{
    private readonly CallSession _session;
    private readonly Phrases _phrases;
    private readonly TimeProvider _time;
    private readonly CallListener _listener;
    private readonly Channel<Input> _inbox = Channel.CreateBounded<Input>(new BoundedChannelOptions(1024) { SingleReader = true });
    private readonly TurnTaker _turn;
    private readonly BargeIn _bargeIn;
    private readonly ReplyRunner _replies;
    private readonly IdleMonitor _idle;
    private readonly CallEnder _ender;

    internal StreamConversation(CallSession session, ICallAudio audio, ConversationServices services)
    {
        var options = services.Options;
        _session = session;
        _phrases = Phrases.For(options.Language);
        _time = services.Time;
        _listener = new CallListener(audio, services.SpeechToText, _time, session.CallId, services.Logger, this);
        _turn = new TurnTaker(options.SpeculativeDelay, _time, version => Post(new WordsStable(version)));
        _bargeIn = new BargeIn(audio, options.BargeInGrace, _time, number => Post(new CheckBargeIn(number)));
        _replies = new ReplyRunner(session, _turn, audio, new ReplySpeaker(session, audio, services, _phrases), options.TurnHold, services.Stats, _time, services.Logger,
            reply => Post(new OpenReply(reply)), reply => Post(new ReplyQueued(reply)), _turn.Carry);
        _idle = new IdleMonitor(options.IdleTimeout, _phrases, _time, version => Post(new IdleCheck(version)));
        _ender = new CallEnder(session, services.CallControl, options.TransferNumber, services.Logger);
    }

    public abstract record Input;

    /// <summary>The call reached its time limit: say goodbye and hang up.</summary>
    public sealed record TimeLimit : Input;

    // What the CallListener hears, then what the parts ask for (their timers and the speaker's progress).
    internal sealed record VoiceStarted : Input;
    internal sealed record VoiceEnded(DateTimeOffset LastVoiceAt) : Input;
    internal sealed record Heard(SpeechEvent Event) : Input;
    internal sealed record FromStream(CallAudioSignal Signal) : Input;
    internal sealed record EarsLost : Input;
    private sealed record ReplyQueued(Reply Reply) : Input;
    private sealed record WordsStable(int Version) : Input;
    private sealed record OpenReply(Reply Reply) : Input;
    private sealed record CheckBargeIn(int Number) : Input;
    private sealed record IdleCheck(int Version) : Input;

    public bool Post(Input input) => _inbox.Writer.TryWrite(input);

    /// <summary>Runs until the stream stops or the call ends; always leaves no reply, timer or loop running.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var listening = _listener.Start(cts.Token);
        StartReply(null, _session.Greeting, speculative: false);
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
            await _replies.StopAsync();
            await cts.CancelAsync();
            foreach (var part in (IDisposable[])[_turn, _bargeIn, _replies, _idle])
            {
                part.Dispose();
            }

            await Task.WhenAll(listening);
        }
    }

    private async Task<bool> HandleAsync(Input input)
    {
        switch (input)
        {
            case VoiceStarted:
                _session.Show(new StateChanged(_session.CallId, LiveState.CallerSpeaking));
                _turn.VoiceStarted();
                _idle.Reset();
                if (_replies.Current is { Speculative: false })
                {
                    _bargeIn.Start();
                }

                break;
            case VoiceEnded ended:
                _session.Show(new StateChanged(_session.CallId, _replies.Current is { IsOpen: true, FirstFrameAt: not null } ? LiveState.AgentSpeaking : LiveState.Listening));
                _turn.VoiceEnded(ended.LastVoiceAt);
                _replies.Current?.CallerStopped(ended.LastVoiceAt);
                _bargeIn.VoiceEnded();
                Speculate();
                break;
            case Heard { Event: SpeechStarted } when _replies.Current is { Speculative: false, FirstFrameAt: not null }:
                _bargeIn.Start();
                break;
            case Heard { Event: TranscriptUpdate update } when update.SpeechFinal || update.Text.Trim().Length > 0:
                await OnTranscriptAsync(update.Text.Trim(), update);
                break;
            case Heard { Event: UtteranceEnded } when _turn.Open && _turn.Text.Length > 0:
                await EndTurnAsync();
                break;
            case WordsStable stable when stable.Version == _turn.Version:
                Speculate();
                break;
            case OpenReply open when open.Reply == _replies.Current && !_bargeIn.Active && !open.Reply.Speculative:
                open.Reply.Open();
                break;
            case CheckBargeIn check:
                await ResolveAsync(_bargeIn.Check(check.Number, _turn.VoiceActive, _replies.Current is not null));
                break;
            case ReplyQueued queued when queued.Reply == _replies.Current:
                queued.Reply.AllQueued();
                await OnReplyProgressAsync(queued.Reply);
                break;
            case FromStream { Signal: MarkPlayed mark }:
                var playing = _replies.MarkPlayed(mark.Name);
                if (playing is not null)
                {
                    _session.Show(new AgentWords(_session.CallId, playing.HeardText(all: false)));
                }

                await OnReplyProgressAsync(playing);
                break;
            case FromStream { Signal: AgentAudioStarted started }:
                _session.Show(new StateChanged(_session.CallId, LiveState.AgentSpeaking));
                _replies.AgentAudioStarted(started.At);
                break;
            case FromStream { Signal: DigitReceived digit }:
                _turn.Pressed(digit.Digit);
                await EndTurnAsync();
                break;
            case FromStream { Signal: StreamStopped }:
                return false;
            case IdleCheck idle when _idle.IsCurrent(idle.Version) && _replies.Current is null && !_turn.VoiceActive && !_turn.Open:
                var (line, endsCall) = _idle.Elapsed();
                await SayAsync(line, endsCall);
                break;
            case TimeLimit:
                await SayAsync(_phrases.TimeLimitGoodbye, CallEndReason.TimeLimit);
                break;
            case EarsLost:
                await SayAsync(_phrases.StreamFailed, CallEndReason.StreamFailed);
                break;
        }

        return true;
    }

    /// <summary>Words over a reply cut it unless they are a backchannel; otherwise they are the caller's turn.</summary>
    private async Task OnTranscriptAsync(string text, TranscriptUpdate update)
    {
        if (_replies.Current is { Speculative: false })
        {
            var verdict = _bargeIn.Hear(_turn.SaidOver(text), update.IsFinal);
            await ResolveAsync(verdict);
            if (verdict != BargeIn.Verdict.Cut)
            {
                _turn.ForgetInterim(update.IsFinal);
                return;
            }
        }

        _idle.CallerSpoke();
        _turn.Hear(text, update.IsFinal);
        _session.Show(new CallerWords(_session.CallId, _turn.Text));
        _replies.WordsChanged(_turn.Text);

        if (update.SpeechFinal)
        {
            await EndTurnAsync();
        }
        else
        {
            Speculate();
        }
    }

    private void Speculate()
    {
        if (_replies.Current is null && !_bargeIn.Active && _turn.Speculation() is { } text)
        {
            StartReply(text, fixedText: null, speculative: true);
        }
    }

    /// <summary>The caller finished: answer the whole turn once, reusing a speculative reply that guessed it right.</summary>
    private async Task EndTurnAsync()
    {
        var text = _turn.End();
        if (text.Length == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        if (_replies.TryPromote(text, now))
        {
            return;
        }

        if (_replies.Current is { } previous)
        {
            await CutAsync(previous);
        }

        StartReply(text, null, speculative: false, decidedAt: now);
    }

    private Reply StartReply(string? callerText, string? fixedText, bool speculative, DateTimeOffset? decidedAt = null)
    {
        _idle.Reset();
        return _replies.Start(callerText, fixedText, speculative, decidedAt);
    }

    /// <summary>Cut the reply, or (noise, a backchannel) let the agent go on: a reply still held back may then open.</summary>
    private async Task ResolveAsync(BargeIn.Verdict verdict)
    {
        if (verdict == BargeIn.Verdict.Cut)
        {
            await CutAsync(_replies.Current!);
        }
        else if (verdict == BargeIn.Verdict.Resume)
        {
            _bargeIn.Stop();
            _replies.Recommit();
        }
    }

    private async Task CutAsync(Reply reply)
    {
        await _replies.CutAsync(reply);
        _bargeIn.Stop();
        ShowListening();
    }

    private void ShowListening() =>
        _session.Show(new StateChanged(_session.CallId, _turn.VoiceActive ? LiveState.CallerSpeaking : LiveState.Listening));

    /// <summary>Says a fixed line over whatever the agent was saying, and ends the call after it when told to.</summary>
    private async Task SayAsync(string line, CallEndReason? endsCall)
    {
        if (_replies.Current is { } interrupted)
        {
            await CutAsync(interrupted);
        }

        var reply = StartReply(null, line, speculative: false);
        if (endsCall is { } reason)
        {
            reply.EndCallAfter(reason);
        }
    }

    /// <summary>A reply heard to the end ends the call when it says so; otherwise the silence after it is watched.</summary>
    private async Task OnReplyProgressAsync(Reply? reply)
    {
        if (reply is not { FullyHeard: true })
        {
            return;
        }

        _replies.Heard(reply);
        ShowListening();
        if (!await _ender.AfterAsync(reply))
        {
            _idle.Wait();
        }
    }
}
