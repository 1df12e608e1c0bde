using System.Net;
using System.Runtime.CompilerServices;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using TelnyxAiService.Providers;

namespace TelnyxAiService.Llm.Claude;

/// <summary>
/// The agent on Claude (official SDK, streaming). Retries are owned here, not by the SDK: a rate limit, overload,
/// server or connection error, or a silent model, is retried at most twice while nothing has been said yet, within
/// about two seconds of waiting, because a caller is listening. Anything else becomes a <see cref="ProviderException"/>.
/// </summary>
internal sealed partial class ClaudeAgent : IAgent, IDisposable
{
    private const int MaxRetries = 2;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxTotalWait = TimeSpan.FromSeconds(2);

    private readonly ClaudeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ClaudeAgent> _logger;
    private readonly HttpClient _http;
    private readonly AnthropicClient _client;

    public ClaudeAgent(ClaudeOptions options, TimeProvider time, ILogger<ClaudeAgent> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new RetryHintHandler { InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } })
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

        var waited = TimeSpan.Zero;
        for (var attempt = 1; ; attempt++)
        {
            var hint = new RetryHint();
            var spoke = false;
            Failure? failure = null;
            var tools = new Dictionary<long, string>();
            using var firstToken = new CancellationTokenSource(_options.FirstTokenTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, firstToken.Token);
            await using (var events = _client.Messages.CreateStreaming(parameters, linked.Token).GetAsyncEnumerator(linked.Token))
            {
                while (true)
                {
                    RetryHintHandler.Current.Value = hint;
                    try
                    {
                        if (!await events.MoveNextAsync())
                        {
                            break;
                        }
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        failure = Classify(e, firstToken.IsCancellationRequested, hint);
                        break;
                    }

                    if (Translate(events.Current, tools) is { } output)
                    {
                        if (!spoke)
                        {
                            spoke = true;
                            firstToken.CancelAfter(Timeout.InfiniteTimeSpan);
                        }

                        yield return output;
                    }
                }
            }

            if (failure is null)
            {
                yield break;
            }

            var delay = hint.RetryAfter ?? FirstBackoff * Math.Pow(2, attempt - 1);
            if (spoke || !failure.Retryable || attempt > MaxRetries || waited + delay > MaxTotalWait)
            {
                LogGaveUp(attempt, failure.Reason, spoke);
                throw new ProviderException("anthropic", $"{failure.Reason} (attempt {attempt}{(spoke ? ", after part of the reply" : "")})", failure.Retryable, failure.Exception);
            }

            LogRetrying(attempt, failure.Reason, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, _time, cancellationToken);
            waited += delay;
        }
    }

    public void Dispose() => _http.Dispose();

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
}
