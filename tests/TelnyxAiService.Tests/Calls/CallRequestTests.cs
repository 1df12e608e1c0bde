using System.Text.Json;
using TelnyxAiService.Calls;

namespace TelnyxAiService.Tests.Calls;

public sealed class CallRequestTests
{
    private static readonly DestinationPolicy AnyDestination = new([]);

    [Fact]
    public void Read_SpanishFields_ReadsAll()
    {
        var errors = new Dictionary<string, string[]>();
        var request = CallRequest.Read(Body("""{"telefono":"+34600111222","nombre":"Ana","contexto":"cita dental","saludo":"Hola Ana"}"""), "", AnyDestination, errors);
        Assert.Empty(errors);
        Assert.Equal(new CallRequest("+34600111222", "Ana", "cita dental", "Hola Ana"), request);
    }

    [Fact]
    public void Read_EnglishFields_ReadsAll()
    {
        var errors = new Dictionary<string, string[]>();
        var request = CallRequest.Read(Body("""{"phone":"+15550001111","name":"Bo","context":"renewal","unknown":{"x":1}}"""), "", AnyDestination, errors);
        Assert.Equal(new CallRequest("+15550001111", "Bo", "renewal", null), request);
    }

    [Theory]
    [InlineData("""{"telefono":"600111222"}""", "telefono")]
    [InlineData("""{"telefono":"+1234567"}""", "telefono")]
    [InlineData("""{"telefono":"+1234567890123456"}""", "telefono")]
    [InlineData("""{"nombre":"Ana"}""", "telefono")]
    [InlineData("""{"telefono":"   "}""", "telefono")]
    public void Read_BadField_NamesIt(string json, string field)
    {
        var errors = new Dictionary<string, string[]>();
        Assert.Null(CallRequest.Read(Body(json), "calls[2].", AnyDestination, errors));
        Assert.Contains("calls[2]." + field, errors.Keys);
    }

    [Theory]
    [InlineData("""{"telefono":12345678}""", "$.telefono")]
    [InlineData("""{"telefono":"+34600111222","nombre":["x"]}""", "$.nombre")]
    [InlineData("""{"telefono":"+34600111222","saludo":true}""", "$.saludo")]
    [InlineData("""{"telefono":"+34600111222","name":"\ud800"}""", "$.name")]
    [InlineData("""{"calls":[{"telefono":"+34600111222"},{"phone":{}}]}""", "$.calls[1].phone")]
    public void Deserialize_WrongType_NamesTheField(string json, string path)
    {
        var e = Assert.Throws<JsonException>(() => json.Contains("calls", StringComparison.Ordinal)
            ? JsonSerializer.Deserialize(json, CallsJson.Default.BatchRequestBody)
            : (object?)JsonSerializer.Deserialize(json, CallsJson.Default.CallRequestBody));
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Read_TooLongContext_Rejected()
    {
        var errors = new Dictionary<string, string[]>();
        var json = JsonSerializer.Serialize(new { telefono = "+34600111222", contexto = new string('x', CallRequest.MaxContext + 1) });
        Assert.Null(CallRequest.Read(Body(json), "", AnyDestination, errors));
        Assert.Contains("contexto", errors.Keys);
    }

    [Theory]
    [InlineData("", "+34600111222", true)]
    [InlineData("", "+19005550100", false)]
    [InlineData("", "+447700900123", true)]
    [InlineData("", "+449012345678", false)]
    [InlineData("", "+34806123456", false)]
    [InlineData("", "+97912345678", false)]
    [InlineData("+34,+1", "+34600111222", true)]
    [InlineData("+34,+1", "+447700900123", false)]
    [InlineData("+34,+1", "+19005550100", false)]
    [InlineData("+34,+1900", "+19005550100", true)]
    public void Destinations_AllowListAndPremiumRanges(string allowed, string phone, bool dialable)
    {
        var policy = new DestinationPolicy(allowed.Split(',', StringSplitOptions.RemoveEmptyEntries));
        var errors = new Dictionary<string, string[]>();
        var request = CallRequest.Read(new CallRequestBody(Telefono: phone), "", policy, errors);
        Assert.Equal(dialable, request is not null);
        if (!dialable)
        {
            Assert.Contains(phone, errors["telefono"][0], StringComparison.Ordinal);
        }
    }

    private static CallRequestBody? Body(string json) => JsonSerializer.Deserialize(json, CallsJson.Default.CallRequestBody);
}
