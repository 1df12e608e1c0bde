using System.Threading.Channels;
using Npgsql;

namespace TelnyxAiService.Storage;

/// <summary>
/// Hands a message to every instance sharing one PostgreSQL (NOTIFY/LISTEN on one channel), so that an event landing on
/// an instance that does not hold the call reaches the one that does. With SQLite there is one instance and it is off.
/// </summary>
internal sealed partial class CallNotifier(StorageOptions options, ILogger<CallNotifier> logger) : BackgroundService
{
    public const string ChannelName = "telnyx_ai_call_events";

    /// <summary>PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.</summary>
    public const int MaxPayloadBytes = 7999;

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly Channel<string> received = Channel.CreateBounded<string>(new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });

    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Enabled => options.Provider == StorageProvider.Postgres;

    /// <summary>Messages from every instance, this one included.</summary>
    public ChannelReader<string> Received => received.Reader;

    /// <summary>Completes once this instance listens (at once when disabled).</summary>
    public Task Listening => listening.Task;

    /// <summary>Sends <paramref name="payload"/> to every listening instance; false when it is too large to send.</summary>
    public async Task<bool> PublishAsync(string payload, CancellationToken cancellationToken)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(payload) > MaxPayloadBytes)
        {
            LogTooLarge(logger);
            return false;
        }

        await using var connection = new NpgsqlConnection(options.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
        command.Parameters.AddWithValue("channel", ChannelName);
        command.Parameters.AddWithValue("payload", payload);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            received.Writer.TryComplete();
            listening.TrySetResult();
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(options.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => received.Writer.TryWrite(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {ChannelName}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                listening.TrySetResult();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.IO.IOException)
            {
                LogListenFailed(logger, e);
                try
                {
                    await Task.Delay(ReconnectDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        received.Writer.TryComplete();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A call event was too large to relay to the other instances")]
    private static partial void LogTooLarge(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for call events from the other instances failed; reconnecting")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);
}
