using System.Text.Json;
using TelnyxAiService.Calls;

namespace TelnyxAiService.Tests.Calls;

public sealed class CallRequestTests
{
    [Fact]
    public void Read_SpanishFields_ReadsAll()
    {
        var errors = new Dictionary<string, string[]>();
        var request = CallRequest.Read(Json("""{"telefono":"+34600111222","nombre":"Ana","contexto":"cita dental","saludo":"Hola Ana"}"""), "", errors);
        Assert.Empty(errors);
        Assert.Equal(new CallRequest("+34600111222", "Ana", "cita dental", "Hola Ana"), request);
    }

    [Fact]
    public void Read_EnglishFields_ReadsAll()
    {
        var errors = new Dictionary<string, string[]>();
        var request = CallRequest.Read(Json("""{"phone":"+15550001111","name":"Bo","context":"renewal"}"""), "", errors);
        Assert.Equal(new CallRequest("+15550001111", "Bo", "renewal", null), request);
    }

    [Theory]
    [InlineData("""{"telefono":"600111222"}""", "telefono")]
    [InlineData("""{"telefono":"+1234567"}""", "telefono")]
    [InlineData("""{"telefono":"+1234567890123456"}""", "telefono")]
    [InlineData("""{"telefono":12345678}""", "telefono")]
    [InlineData("""{"nombre":"Ana"}""", "telefono")]
    [InlineData("""{"telefono":"+34600111222","nombre":["x"]}""", "nombre")]
    [InlineData("""{"telefono":"+34600111222","saludo":true}""", "saludo")]
    public void Read_BadField_NamesIt(string json, string field)
    {
        var errors = new Dictionary<string, string[]>();
        Assert.Null(CallRequest.Read(Json(json), "calls[2].", errors));
        Assert.Contains("calls[2]." + field, errors.Keys);
    }

    [Fact]
    public void Read_TooLongContext_Rejected()
    {
        var errors = new Dictionary<string, string[]>();
        var json = JsonSerializer.Serialize(new { telefono = "+34600111222", contexto = new string('x', CallRequest.MaxContext + 1) });
        Assert.Null(CallRequest.Read(Json(json), "", errors));
        Assert.Contains("contexto", errors.Keys);
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;
}
