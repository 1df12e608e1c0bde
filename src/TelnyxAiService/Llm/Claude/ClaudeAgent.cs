using System.Runtime.CompilerServices;
using Polly;
using Polly.Retry;
using TelnyxAiService.Providers;
using TelnyxAiService.Security;

namespace TelnyxAiService.Llm.Claude;

/// <summary>
/// The agent on Claude: the streaming Messages API through <see cref="ClaudeMessages"/>. Retries are a Polly pipeline
/// on the injected clock: a rate limit, overload, server or connection error, or a silent model, is retried at most
/// twice while nothing has been said yet, within about two seconds of waiting, because a caller is listening. Once the
/// reply has started nothing is retried. Anything else becomes a <see cref="ProviderException"/>.
/// </summary>
internal sealed partial class ClaudeAgent : IAgent, IDisposable
{
    private const string Provider = "anthropic";
    private const int MaxRetries = 2;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxTotalWait = TimeSpan.FromSeconds(2);

    /// <summary>How long a reply that has started may take to finish: a stream that stalls is given up, not waited on.</summary>
    internal static readonly TimeSpan ReplyLimit = TimeSpan.FromSeconds(30);
    private static readonly ResiliencePropertyKey<TimeSpan> Waited = new("claude.waited");

    private readonly ClaudeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ClaudeAgent> _logger;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline _retry;
    private readonly Telemetry.ServiceTelemetry _telemetry;

    public ClaudeAgent(ClaudeOptions options, Telemetry.ServiceTelemetry telemetry, TimeProvider time, ILogger<ClaudeAgent> logger)
        : this(options, telemetry, time, logger, new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
    }

    /// <summary>Sends through <paramref name="handler"/>, which the agent then owns (tests replay recorded responses).</summary>
    internal ClaudeAgent(ClaudeOptions options, Telemetry.ServiceTelemetry telemetry, TimeProvider time, ILogger<ClaudeAgent> logger, HttpMessageHandler handler)
    {
        if (options.ApiKey is null)
        {
            handler.Dispose();
            throw new ArgumentException("ANTHROPIC_API_KEY is not set", nameof(options));
        }

        _options = options;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is AttemptFailed { Failure.Retryable: true } failed
                    && args.Context.Properties.GetValue(Waited, TimeSpan.Zero) + Delay(failed, args.AttemptNumber) <= MaxTotalWait),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Delay((AttemptFailed)args.Outcome.Exception!, args.AttemptNumber)),
                OnRetry = args =>
                {
                    args.Context.Properties.Set(Waited, args.Context.Properties.GetValue(Waited, TimeSpan.Zero) + args.RetryDelay);
                    _telemetry.ProviderRetried(Provider);
                    LogRetrying(args.AttemptNumber + 1, ((AttemptFailed)args.Outcome.Exception!).Failure.Reason, (long)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public async IAsyncEnumerable<AgentOutput> ReplyAsync(AgentRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var reply = await StartAsync(ClaudePrompt.Request(_options, request), cancellationToken);
        var output = reply.First;
        while (output is not null)
        {
            yield return output;
            try
            {
                output = await reply.ReadAsync();
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                var failure = reply.TimedOut
                    ? new Failure($"no end of the reply within {ReplyLimit.TotalSeconds:0} s", false, e)
                    : Classify(e, silent: false);
                GaveUp(reply.Attempt, failure.Reason, true);
                throw new ProviderException(Provider, $"{failure.Reason} (attempt {reply.Attempt}, after part of the reply)", failure.Retryable, e);
            }
        }

        if (reply.StopReason is not (null or "end_turn" or "tool_use"))
        {
            LogStopped(LogText.Escape(reply.StopReason));
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The server's wait, or backoff doubling from <see cref="FirstBackoff"/>.</summary>
    private static TimeSpan Delay(AttemptFailed failed, int retry) => failed.Failure.RetryAfter ?? FirstBackoff * Math.Pow(2, retry);

    /// <summary>Opens the reply up to its first output, retrying attempts that fail before it.</summary>
    private async Task<ReplyStream> StartAsync(MessagesRequest body, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        var attempt = 0;
        try
        {
            return await _retry.ExecuteAsync(async context => await OpenAsync(body, ++attempt, context.CancellationToken), context);
        }
        catch (AttemptFailed failed)
        {
            GaveUp(failed.Attempt, failed.Failure.Reason, false);
            throw new ProviderException(Provider, $"{failed.Failure.Reason} (attempt {failed.Attempt})", failed.Failure.Retryable, failed.Failure.Exception);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>One attempt: the request, then the stream up to the first output within CLAUDE_FIRST_TOKEN_TIMEOUT_MS.</summary>
    private async ValueTask<ReplyStream> OpenAsync(MessagesRequest body, int attempt, CancellationToken cancellationToken)
    {
        var reply = new ReplyStream(attempt, _options.FirstTokenTimeout, _time, cancellationToken);
        try
        {
            await reply.StartAsync(_http, ClaudeMessages.Request(_options, body), _time);
            return reply;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var failure = Classify(e, reply.TimedOut);
            await reply.DisposeAsync();
            throw new AttemptFailed(attempt, failure);
        }
        catch
        {
            await reply.DisposeAsync();
            throw;
        }
    }

    private static Failure Classify(Exception e, bool silent) => e switch
    {
        _ when silent => new Failure("no first token within CLAUDE_FIRST_TOKEN_TIMEOUT_MS", true, e),
        ClaudeApiException api => new Failure(api.Message, api.Retryable, e, api.RetryAfter),
        HttpRequestException or IOException => new Failure("connection failed", true, e),
        _ => new Failure($"unexpected response ({e.GetType().Name})", false, e),
    };

    private void GaveUp(int attempt, string reason, bool spoke)
    {
        _telemetry.ProviderFailed(Provider);
        LogGaveUp(attempt, reason, spoke);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claude attempt {Attempt} failed: {Reason}; retrying in {DelayMs} ms")]
    private partial void LogRetrying(int attempt, string reason, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claude attempt {Attempt} failed: {Reason}; giving up (reply started: {Spoke})")]
    private partial void LogGaveUp(int attempt, string reason, bool spoke);

    [LoggerMessage(Level = LogLevel.Information, Message = "Claude ended the reply early: {StopReason}")]
    private partial void LogStopped(string stopReason);

    /// <param name="RetryAfter">The server's wait, from the response headers.</param>
    private sealed record Failure(string Reason, bool Retryable, Exception Exception, TimeSpan? RetryAfter = null);

    /// <summary>An attempt that failed before the reply started, as the retry pipeline sees it.</summary>
    private sealed class AttemptFailed(int attempt, Failure failure) : Exception(failure.Reason, failure.Exception)
    {
        public int Attempt { get; } = attempt;

        public Failure Failure { get; } = failure;
    }

    /// <summary>
    /// One attempt's reply: its response and events, bounded by CLAUDE_FIRST_TOKEN_TIMEOUT_MS until the first output,
    /// then by <see cref="ReplyLimit"/>, and always by the caller's token.
    /// </summary>
    private sealed class ReplyStream : IAsyncDisposable
    {
        private readonly CancellationTokenSource _deadline;
        private readonly CancellationTokenSource _linked;
        private readonly Dictionary<int, string> _tools = [];
        private HttpResponseMessage? _response;
        private IAsyncEnumerator<ClaudeEvent>? _events;

        public ReplyStream(int attempt, TimeSpan firstTokenTimeout, TimeProvider time, CancellationToken cancellationToken)
        {
            Attempt = attempt;
            _deadline = new CancellationTokenSource(firstTokenTimeout, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deadline.Token);
        }

        public int Attempt { get; }

        /// <summary>The first output, or once it came the end of the reply, did not come in time.</summary>
        public bool TimedOut => _deadline.IsCancellationRequested;

        /// <summary>The first output; null when the reply ended without one.</summary>
        public AgentOutput? First { get; private set; }

        /// <summary>Why the model stopped (<c>message_delta</c>), once it said.</summary>
        public string? StopReason { get; private set; }

        /// <summary>Sends the request and reads up to the first output.</summary>
        public async Task StartAsync(HttpClient http, HttpRequestMessage request, TimeProvider time)
        {
            using (request)
            {
                _response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _linked.Token);
            }

            if (!_response.IsSuccessStatusCode)
            {
                throw await ClaudeMessages.ErrorOfAsync(_response, time, _linked.Token);
            }

            _events = ClaudeMessages.EventsAsync(_response, _linked.Token).GetAsyncEnumerator(_linked.Token);
            First = await ReadAsync();
            _deadline.CancelAfter(ReplyLimit);
        }

        /// <summary>The next output; null at the end of the reply.</summary>
        public async ValueTask<AgentOutput?> ReadAsync()
        {
            while (await _events!.MoveNextAsync())
            {
                if (Translate(_events.Current) is { } output)
                {
                    return output;
                }
            }

            return null;
        }

        public async ValueTask DisposeAsync()
        {
            if (_events is not null)
            {
                await _events.DisposeAsync();
            }

            _response?.Dispose();
            _linked.Dispose();
            _deadline.Dispose();
        }

        /// <summary>Text deltas as they come; a tool call once its block is complete.</summary>
        private AgentOutput? Translate(ClaudeEvent streamEvent)
        {
            switch (streamEvent)
            {
                case ContentBlockDelta { Delta: TextBlockDelta { Text.Length: > 0 } text }:
                    return new TextDelta(text.Text);
                case ContentBlockStart { ContentBlock: ToolUseBlock toolUse } start:
                    _tools[start.Index] = toolUse.Name;
                    return null;
                case ContentBlockStop stop when _tools.Remove(stop.Index, out var name):
                    return name switch
                    {
                        ClaudePrompt.EndCallTool => new EndCallRequested(),
                        ClaudePrompt.TransferTool => new TransferRequested(),
                        _ => null,
                    };
                case MessageDelta delta:
                    StopReason = delta.Delta.StopReason;
                    return null;
                case ErrorEvent error:
                    throw new ClaudeApiException($"stream error {LogText.Escape(error.Error?.Type)}".TrimEnd(), retryable: true);
                default:
                    return null;
            }
        }
    }
}
