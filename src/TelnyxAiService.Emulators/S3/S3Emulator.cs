using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TelnyxAiService.Emulators.S3;

/// <summary>One object as stored: its bytes, content type and ETag (the quoted MD5 of the bytes, as S3 gives for single-part uploads).</summary>
public sealed record S3Object(byte[] Content, string ContentType, string ETag, DateTimeOffset LastModified);

/// <summary>
/// A minimal S3-compatible store for benchmarks and tests: path-style <c>PUT /{bucket}/{key}</c> and
/// <c>GET /{bucket}/{key}</c> (and HEAD), any bucket, no authentication. PUT answers 200 with an <c>ETag</c> header;
/// GET of a missing key answers 404 with S3's <c>NoSuchKey</c> XML error.
/// </summary>
public sealed class S3Emulator : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, S3Object> _objects = new(StringComparer.Ordinal);
    private EmulatorHost? _host;

    private S3Emulator()
    {
    }

    /// <summary>http://127.0.0.1:PORT, without a trailing slash; objects live at {BaseUrl}/{bucket}/{key}.</summary>
    public Uri BaseUrl => _host!.BaseUrl;

    public IReadOnlyDictionary<string, S3Object> Objects => _objects;

    public static async Task<S3Emulator> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        var emulator = new S3Emulator();
        emulator._host = await EmulatorHost.StartAsync(emulator.Map, port, cancellationToken);
        return emulator;
    }

    /// <summary>The URL of an object, path-style.</summary>
    public Uri ObjectUrl(string bucket, string key) => new(BaseUrl, $"/{bucket}/{key}");

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    private void Map(WebApplication app)
    {
        app.MapPut("/{bucket}/{**key}", PutAsync);
        app.MapMethods("/{bucket}/{**key}", ["GET", "HEAD"], Get);
    }

    private async Task<IResult> PutAsync(HttpContext context, string bucket, string key)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var content = body.ToArray();
        var etag = $"\"{Convert.ToHexStringLower(MD5.HashData(content))}\"";
        _objects[$"{bucket}/{key}"] = new S3Object(content, context.Request.ContentType ?? "binary/octet-stream", etag, DateTimeOffset.UtcNow);
        context.Response.Headers.ETag = etag;
        return Results.Ok();
    }

    private IResult Get(HttpContext context, string bucket, string key)
    {
        if (!_objects.TryGetValue($"{bucket}/{key}", out var stored))
        {
            return Results.Content(
                $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>{key}</Key></Error>",
                "application/xml",
                statusCode: StatusCodes.Status404NotFound);
        }

        context.Response.Headers.ETag = stored.ETag;
        context.Response.Headers.LastModified = stored.LastModified.ToString("R");
        return Results.Bytes(stored.Content, stored.ContentType);
    }
}
