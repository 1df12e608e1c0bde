using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TelnyxAiService.Calls;
using TelnyxAiService.Emulators.Telnyx;
using TelnyxAiService.Storage;
using TelnyxAiService.Tests.TestHost;

namespace TelnyxAiService.Tests.Calls;

/// <summary>Campaigns sent as CSV: the RFC 4180 reader, the header's names, and each bad row reported by its line.</summary>
public sealed class BatchCsvTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Read_QuotedCommasQuotesAndLineBreaks_GiveFieldsWithTheLineEachRecordStartsOn()
    {
        var text = "\uFEFFtelefono,contexto\r\n+34600111222,\"cita, el lunes\"\r\n\r\n+34600111333,\"dijo \"\"sí\"\"\nen dos\r\nlíneas\"\n   \n+34600111444,\"\"\r+34600111555,plain";

        var records = Csv.Read(text);

        Assert.Equal([1, 2, 4, 8, 9], records.Select(r => r.Line));
        Assert.Equal(["telefono", "contexto"], records[0].Fields);
        Assert.Equal(["+34600111222", "cita, el lunes"], records[1].Fields);
        Assert.Equal(["+34600111333", "dijo \"sí\"\nen dos\r\nlíneas"], records[2].Fields);
        Assert.Equal(["+34600111444", ""], records[3].Fields);
        Assert.Equal(["+34600111555", "plain"], records[4].Fields);
        Assert.Equal([[""]], Csv.Read("\"\"\n").Select(r => r.Fields));
        Assert.Empty(Csv.Read("\uFEFF\r\n\n"));
    }

    [Theory]
    [InlineData("telefono\n+34600111222\n\"+34600111333\n", 3, "not closed")]
    [InlineData("telefono,nombre\n\n+34600111222,\"Ana\" Pérez\n", 3, "closing quote")]
    [InlineData("telefono,nombre\r\n+34600111222,\"Ana\r\nPérez\"\r\n+34600111333,Ana \"la\" Pérez\r\n", 4, "must be quoted")]
    public void Read_MisplacedQuote_NamesItsLine(string text, int line, string problem)
    {
        var e = Assert.Throws<CsvException>(() => Csv.Read(text));
        Assert.Equal(line, e.Line);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("telefono,nombre,contexto,saludo")]
    [InlineData(" Phone ,NAME,Context,greeting")]
    [InlineData("saludo,Contexto,Nombre,TELEFONO")]
    public void Header_SpanishOrEnglishAnyCaseAnyOrder_FillsTheSameFields(string header)
    {
        var names = header.Split(',').Select(n => n.Trim().ToLowerInvariant()).ToList();
        var values = new Dictionary<string, string>
        {
            ["telefono"] = "+34600111222",
            ["phone"] = "+34600111222",
            ["nombre"] = "Ana",
            ["name"] = "Ana",
            ["contexto"] = "cita, lunes",
            ["context"] = "cita, lunes",
            ["saludo"] = "Hola",
            ["greeting"] = "Hola",
        };
        var errors = new Dictionary<string, string[]>();

        var calls = BatchCsv.Read($"{header}\n{string.Join(',', names.Select(n => $"\"{values[n]}\""))}\n", errors);

        Assert.Empty(errors);
        var (prefix, body) = Assert.Single(calls!);
        Assert.Equal("line 2.", prefix);
        Assert.Equal(new CallRequestBody(Telefono: "+34600111222", Nombre: "Ana", Contexto: "cita, lunes", Saludo: "Hola"), body);
    }

    [Theory]
    [InlineData("telefono,email,notas\n+34600111222,a@b.c,x\n", "line 1", "unknown columns: email, notas")]
    [InlineData("\nnombre,name\nAna,Ana\n", "line 2", "needs a telefono (or phone) column")]
    [InlineData("telefono,Phone\n+34600111222,+34600111222\n", "line 1", "names a field twice: Phone")]
    [InlineData("telefono,\n+34600111222,\n", "line 1", "column 2 (no name)")]
    [InlineData("telefono\n", "body", "must hold 1 to 1000 rows")]
    [InlineData("\uFEFF\n", "body", "is empty")]
    public void Read_BadHeaderOrNoRows_RejectsTheBatch(string text, string key, string problem)
    {
        var errors = new Dictionary<string, string[]>();

        Assert.Null(BatchCsv.Read(text, errors));

        Assert.Equal([key], errors.Keys);
        Assert.Contains(errors[key], m => m.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Read_RowWithTheWrongNumberOfFields_IsReportedByItsLineAndLeftOut()
    {
        var errors = new Dictionary<string, string[]>();

        var calls = BatchCsv.Read("telefono,nombre\n+34600111222,Ana\n+34600111333\n+34600111444,Luis,extra\n", errors);

        Assert.Equal(["line 2."], calls!.Select(c => c.Prefix));
        Assert.Equal(["line 3", "line 4"], errors.Keys.Order());
        Assert.Equal("has 1 fields; the header has 2", errors["line 3"].Single());
    }

    [Fact]
    public async Task Post_CsvCampaign_QueuedAsTheJsonOneWouldBeAndListed()
    {
        await using var harness = await StartAsync();
        var client = harness.Client;
        const string csv = "Telefono,Nombre,Contexto,Saludo\r\n+34600111222,Ana,\"cita el lunes, a las 10\",\"Hola Ana, \"\"buenos días\"\"\"\r\n"
            + "+34600111333,Luis,\"dos\nlíneas\",\r\n";

        var response = await PostCsvAsync(client, "\uFEFF" + csv, "text/csv; charset=utf-8");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var queued = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((2, "queued"), (queued.GetProperty("total").GetInt32(), queued.GetProperty("status").GetString()));
        var batchId = queued.GetProperty("batch_id").GetString()!;
        var progress = await harness.Services.GetRequiredService<IBatchStore>().GetBatchProgressAsync(batchId, Ct);
        Assert.Equal(
            [("+34600111222", "Ana", "cita el lunes, a las 10", "Hola Ana, \"buenos días\""), ("+34600111333", "Luis", "dos\nlíneas", null)],
            progress!.Items.Select(i => (i.Phone, i.Name, i.Context, i.Greeting)));

        var english = await PostCsvAsync(client, "phone,name\n+34600111444,Eva\n", "text/csv");
        Assert.Equal(HttpStatusCode.Accepted, english.StatusCode);
        var englishId = (await english.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("batch_id").GetString();

        var list = await client.GetFromJsonAsync<JsonElement>("/api/call/batch?limit=1", Ct);
        var newest = Assert.Single(list.GetProperty("batches").EnumerateArray());
        Assert.Equal((englishId, 1), (newest.GetProperty("batch_id").GetString(), newest.GetProperty("total").GetInt32()));
        Assert.False(newest.TryGetProperty("items", out _));
        var rest = await client.GetFromJsonAsync<JsonElement>($"/api/call/batch?limit=5&cursor={list.GetProperty("next_cursor").GetString()}", Ct);
        var older = Assert.Single(rest.GetProperty("batches").EnumerateArray());
        Assert.Equal((batchId, 2), (older.GetProperty("batch_id").GetString(), older.GetProperty("total").GetInt32()));
        Assert.Equal(7, older.GetProperty("counts").EnumerateObject().Count());
        Assert.False(rest.TryGetProperty("next_cursor", out _));
        foreach (var query in (string[])["limit=0", "limit=1001", "cursor=not-a-cursor"])
        {
            var bad = await client.GetAsync($"/api/call/batch?{query}", Ct);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(query.Split('=')[0], Assert.Single((await bad.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errors").EnumerateObject()).Name);
        }
    }

    [Fact]
    public async Task Post_CsvWithBadRows_RejectedWholeNamingEachLine()
    {
        await using var harness = await StartAsync();
        var client = harness.Client;

        var badPhone = await PostCsvAsync(client, "telefono,nombre\n+34600111222,Ana\n600 111 333,Luis\n", "text/csv");
        Assert.Equal(["line 3.telefono"], await ErrorKeysAsync(badPhone));

        var afterMultiline = await PostCsvAsync(
            client, "telefono,contexto\r\n+34600111222,\"una\r\ndos\"\r\n\r\n12,x\r\n,y\r\n+34600111333\r\n" + $"+34600111444,{new string('x', 4001)}\r\n", "text/csv");
        Assert.Equal(["line 5.telefono", "line 6.telefono", "line 7", "line 8.contexto"], await ErrorKeysAsync(afterMultiline));

        var tooMany = await PostCsvAsync(client, "telefono\n" + string.Concat(Enumerable.Range(0, 1001).Select(i => $"+3460{i:D7}\n")), "text/csv");
        Assert.Equal(["body"], await ErrorKeysAsync(tooMany));

        var notUtf8 = new ByteArrayContent([.. "telefono,nombre\n+34600111222,"u8, 0xC1, 0x0A]);
        notUtf8.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        Assert.Equal(["body"], await ErrorKeysAsync(await client.PostAsync("/api/call/batch", notUtf8, Ct)));

        var plain = await PostCsvAsync(client, "telefono\n+34600111222\n", "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        Assert.Contains("text/csv", (await plain.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());

        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/call/batch", Ct)).GetProperty("batches").EnumerateArray());
        Assert.DoesNotContain(harness.Telnyx.Commands, c => c.Action == "dial");
    }

    private static Task<ServiceHarness> StartAsync() => ServiceHarness.StartAsync(
        new HarnessOptions { MediaStreams = false, Telnyx = new TelnyxEmulatorOptions { Callee = new CalleeScript { AnswerAfter = TimeSpan.FromMinutes(1) } } }, Ct);

    private static Task<HttpResponseMessage> PostCsvAsync(HttpClient client, string csv, string contentType)
    {
        var content = new StringContent(csv, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return client.PostAsync("/api/call/batch", content, Ct);
    }

    private static async Task<List<string>> ErrorKeysAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return [.. problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal)];
    }
}
