using System.Net;
using System.Runtime.CompilerServices;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Polly;
using Polly.Retry;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Llm.Claude;

/// <summary>
/// The agent on Claude (official SDK, streaming). Retries are owned here (a Polly pipeline on the injected clock), not
/// by the SDK, whose waits would run on the system clock without our budget: a rate limit, overload, server or
/// connection error, or a silent model, is retried at most twice while nothing has been said yet, within about two
/// seconds of waiting, because a caller is listening. Once the reply has started nothing is retried. Anything else
/// becomes a <see cref="ProviderException"/>.
/// </summary>
internal sealed partial class ClaudeAgent : IAgent, IDisposable
{
    private const int MaxRetries = 2;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxTotalWait = TimeSpan.FromSeconds(2);
    private static readonly ResiliencePropertyKey<TimeSpan> Waited = new("claude.waited");

    private readonly ClaudeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ClaudeAgent> _logger;
    private readonly HttpClient _http;
    private readonly AnthropicClient _client;
    private readonly ResiliencePipeline _retry;

    public ClaudeAgent(ClaudeOptions options, TimeProvider time, ILogger<ClaudeAgent> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new RetryHintHandler(time) { InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _client = new AnthropicClient
        {
            ApiKey = options.ApiKey ?? throw new ArgumentException("ANTHROPIC_API_KEY is not set", nameof(options)),
            BaseUrl = options.BaseUrl.ToString().TrimEnd('/'),
            HttpClient = _http,
            MaxRetries = 0,
            Timeout = TimeSpan.FromSeconds(30),
        };
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
                    LogRetrying(args.AttemptNumber + 1, ((AttemptFailed)args.Outcome.Exception!).Failure.Reason, (long)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public async IAsyncEnumerable<AgentOutput> ReplyAsync(AgentRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parameters = new MessageCreateParams
        {
            Model = _options.Model,
            MaxTokens = _options.MaxTokens,
            System = ClaudePrompt.System(request.Call),
            Messages = ClaudePrompt.Messages(request.History),
            Tools = ClaudePrompt.Tools(_options.TransferNumber is not null),
        };

        await using var reply = await StartAsync(parameters, cancellationToken);
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
                var failure = Classify(e, silent: false, reply.Hint);
                LogGaveUp(reply.Attempt, failure.Reason, true);
                throw new ProviderException("anthropic", $"{failure.Reason} (attempt {reply.Attempt}, after part of the reply)", failure.Retryable, e);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The server's wait, or backoff doubling from <see cref="FirstBackoff"/>.</summary>
    private static TimeSpan Delay(AttemptFailed failed, int retry) => failed.RetryAfter ?? FirstBackoff * Math.Pow(2, retry);

    /// <summary>Opens the reply up to its first output, retrying attempts that fail before it.</summary>
    private async Task<StartedReply> StartAsync(MessageCreateParams parameters, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        var attempt = 0;
        try
        {
            return await _retry.ExecuteAsync(async context => await OpenAsync(parameters, ++attempt, context.CancellationToken), context);
        }
        catch (AttemptFailed failed)
        {
            LogGaveUp(failed.Attempt, failed.Failure.Reason, false);
            throw new ProviderException("anthropic", $"{failed.Failure.Reason} (attempt {failed.Attempt})", failed.Failure.Retryable, failed.Failure.Exception);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>One attempt: the request, then the stream up to the first output within CLAUDE_FIRST_TOKEN_TIMEOUT_MS.</summary>
    private async ValueTask<StartedReply> OpenAsync(MessageCreateParams parameters, int attempt, CancellationToken cancellationToken)
    {
        var hint = new RetryHint();
        RetryHintHandler.Current.Value = hint;
        var firstToken = new CancellationTokenSource(_options.FirstTokenTimeout, _time);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, firstToken.Token);
        var reply = new StartedReply(attempt, hint, firstToken, linked, _client.Messages.CreateStreaming(parameters, linked.Token).GetAsyncEnumerator(linked.Token));
        try
        {
            reply.First = await reply.ReadAsync();
            firstToken.CancelAfter(Timeout.InfiniteTimeSpan);
            return reply;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await reply.DisposeAsync();
            throw new AttemptFailed(attempt, Classify(e, firstToken.IsCancellationRequested, hint), hint.RetryAfter);
        }
        catch
        {
            await reply.DisposeAsync();
            throw;
        }
    }

    /// <summary>Text deltas as they come; a tool call once its block is complete.</summary>
    private static AgentOutput? Translate(RawMessageStreamEvent streamEvent, Dictionary<long, string> tools)
    {
        if (streamEvent.TryPickContentBlockDelta(out var delta))
        {
            return delta.Delta.TryPickText(out var text) && text.Text.Length > 0 ? new TextDelta(text.Text) : null;
        }

        if (streamEvent.TryPickContentBlockStart(out var start) && start.ContentBlock.TryPickToolUse(out var toolUse))
        {
            tools[start.Index] = toolUse.Name;
            return null;
        }

        if (streamEvent.TryPickContentBlockStop(out var stop) && tools.Remove(stop.Index, out var name))
        {
            return name switch
            {
                ClaudePrompt.EndCallTool => new EndCallRequested(),
                ClaudePrompt.TransferTool => new TransferRequested(),
                _ => null,
            };
        }

        return null;
    }

    private static Failure Classify(Exception e, bool silent, RetryHint hint) => e switch
    {
        _ when silent => new Failure("no first token within CLAUDE_FIRST_TOKEN_TIMEOUT_MS", true, e),
        AnthropicApiException api => new Failure(
            $"HTTP {(int)api.StatusCode} {api.Type?.Raw()}".TrimEnd(),
            hint.ShouldRetry ?? IsTransient(api.StatusCode),
            e),
        AnthropicSseException sse => new Failure($"stream error {sse.Type?.Raw()}".TrimEnd(), true, e),
        AnthropicIOException or HttpRequestException or IOException => new Failure("connection failed", true, e),
        _ => new Failure($"unexpected response ({e.GetType().Name})", false, e),
    };

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claude attempt {Attempt} failed: {Reason}; retrying in {DelayMs} ms")]
    private partial void LogRetrying(int attempt, string reason, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claude attempt {Attempt} failed: {Reason}; giving up (reply started: {Spoke})")]
    private partial void LogGaveUp(int attempt, string reason, bool spoke);

    private sealed record Failure(string Reason, bool Retryable, Exception Exception);

    /// <summary>An attempt that failed before the reply started, as the retry pipeline sees it.</summary>
    private sealed class AttemptFailed(int attempt, Failure failure, TimeSpan? retryAfter) : Exception(failure.Reason, failure.Exception)
    {
        public int Attempt { get; } = attempt;

        public Failure Failure { get; } = failure;

        /// <summary>The server's wait, from the response headers.</summary>
        public TimeSpan? RetryAfter { get; } = retryAfter;
    }

    /// <summary>A reply stream that has started: its attempt, its first output (null when it ended without one), and the rest to read.</summary>
    private sealed class StartedReply(
        int attempt,
        RetryHint hint,
        CancellationTokenSource firstToken,
        CancellationTokenSource linked,
        IAsyncEnumerator<RawMessageStreamEvent> events) : IAsyncDisposable
    {
        private readonly Dictionary<long, string> _tools = [];

        public int Attempt { get; } = attempt;

        public RetryHint Hint { get; } = hint;

        public AgentOutput? First { get; set; }

        /// <summary>The next output; null at the end of the reply.</summary>
        public async ValueTask<AgentOutput?> ReadAsync()
        {
            while (await events.MoveNextAsync())
            {
                if (Translate(events.Current, _tools) is { } output)
                {
                    return output;
                }
            }

            return null;
        }

        public async ValueTask DisposeAsync()
        {
            await events.DisposeAsync();
            linked.Dispose();
            firstToken.Dispose();
        }
    }
}
