using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Npgsql;

namespace TelnyxAiService.Storage;

/// <summary>
/// Hands a message to every instance sharing one PostgreSQL (NOTIFY/LISTEN on one channel), so that an event landing on
/// an instance that does not hold the call reaches the one that does. With SQLite there is one instance and it is off.
/// A message of any size is stored in <c>relayed_webhooks</c> and only its id is notified (NOTIFY payloads stop short of
/// 8000 bytes); each instance reads the message by id. Each send deletes the messages stored more than
/// <see cref="MessageLifetime"/> ago.
/// </summary>
internal sealed partial class CallNotifier(StorageOptions options, TimeProvider time, ILogger<CallNotifier> logger) : BackgroundService
{
    public const string ChannelName = "telnyx_ai_call_events";

    /// <summary>How long a sent message stays readable.</summary>
    public static readonly TimeSpan MessageLifetime = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly Channel<string> received = Channel.CreateBounded<string>(new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });

    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Enabled => options.Provider == StorageProvider.Postgres;

    /// <summary>Completes once this instance listens (at once when disabled).</summary>
    public Task Listening => listening.Task;

    /// <summary>Sends <paramref name="message"/> to every listening instance.</summary>
    public async Task PublishAsync(string message, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = new NpgsqlConnection(options.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            DELETE FROM relayed_webhooks WHERE created_at < @expired;
            WITH sent AS (INSERT INTO relayed_webhooks (id, body, created_at) VALUES (@id, @body, @now) RETURNING id)
            SELECT pg_notify(@channel, id) FROM sent;
            """,
            connection);
        command.Parameters.AddWithValue("expired", (now - MessageLifetime).ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("id", Guid.CreateVersion7().ToString("N"));
        command.Parameters.AddWithValue("body", message);
        command.Parameters.AddWithValue("now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("channel", ChannelName);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Messages from every instance, this one included, as they arrive.</summary>
    public async IAsyncEnumerable<string> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var id in received.Reader.ReadAllAsync(cancellationToken))
        {
            if (await ReadMessageAsync(id, cancellationToken) is { } message)
            {
                yield return message;
            }
        }
    }

    /// <summary>The stored message; null when it has expired, belongs to another schema, or cannot be read now.</summary>
    private async Task<string?> ReadMessageAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(options.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT body FROM relayed_webhooks WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            return await command.ExecuteScalarAsync(cancellationToken) as string;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.IO.IOException)
        {
            LogReadFailed(logger, e);
            return null;
        }
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
                    await Task.Delay(ReconnectDelay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        received.Writer.TryComplete();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A call event relayed by another instance could not be read")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for call events from the other instances failed; reconnecting")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);
}
