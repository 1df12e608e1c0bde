using TelnyxAiService.Demo;

namespace TelnyxAiService.Tests.Demo;

public sealed class PersonaTests
{
    [Fact]
    public void Load_ShippedClinicBooking_HasAtLeastThreeLinesEndingInGoodbye()
    {
        var persona = Persona.Load(Persona.DefaultPath);

        Assert.Equal("Ana", persona.Name);
        Assert.NotNull(persona.Greeting);
        Assert.True(persona.Lines.Count >= 3);
        Assert.Contains("goodbye", persona.Lines[^1].Text, StringComparison.OrdinalIgnoreCase);
        Assert.All(persona.Lines, l => Assert.Null(l.BargeInAfter));
    }

    [Fact]
    public void Load_ShippedBargeIn_FirstLineInterruptsTheAgent()
    {
        var persona = Persona.Load(Path.Combine(Path.GetDirectoryName(Persona.DefaultPath)!, "clinic-barge-in.json"));

        Assert.Equal(TimeSpan.FromMilliseconds(2500), persona.Lines[0].BargeInAfter);
        Assert.Null(persona.Lines[1].BargeInAfter);
    }

    [Fact]
    public void Parse_MinimalFile_DefaultsNameAndContext()
    {
        var persona = Persona.Parse("""{ "lines": [ { "say": " Hello there. " } ] }""", "inline");

        Assert.Equal("Alex", persona.Name);
        Assert.Null(persona.Greeting);
        Assert.Equal(new PersonaLine("Hello there.", null), Assert.Single(persona.Lines));
    }

    [Theory]
    [InlineData("""{ "lines": [] }""", "needs \"lines\"")]
    [InlineData("""{ "lines": [ { "say": "hi" }, { "text": "hi" } ] }""", "lines[1] needs \"say\"")]
    [InlineData("""{ "lines": [ { "say": "hi", "barge_in_after_ms": -5 } ] }""", "lines[0].barge_in_after_ms")]
    [InlineData("""{ "name": 3, "lines": [ { "say": "hi" } ] }""", "name has the wrong type")]
    [InlineData("""{ "name": " ", "lines": [ { "say": "hi" } ] }""", "name must be a non-empty string")]
    [InlineData("""{ "lines": [ { "say": "hi", "barge_in_after_ms": "soon" } ] }""", "lines[0].barge_in_after_ms has the wrong type")]
    [InlineData("""[ "hi" ]""", "does not hold one JSON object")]
    [InlineData("""null""", "must hold one JSON object")]
    [InlineData("""{ "lines": """, "is not valid JSON")]
    public void Parse_Malformed_NamesFileAndField(string json, string problem)
    {
        var error = Assert.Throws<InvalidPersonaException>(() => Persona.Parse(json, "p.json"));

        Assert.StartsWith("persona 'p.json': ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Score_OneWrongOneMissingOneExtra_CountsEachAndAlignsPerLine()
    {
        var score = WordAccuracy.Score(["Where are you located?", "Yes, please."], "where are we located yes please now");

        Assert.Equal((6, 5, 1, 0, 1), (score.Words, score.Correct, score.Substitutions, score.Deletions, score.Insertions));
        Assert.Equal(4.0 / 6, score.Accuracy, 3);
        Assert.Equal(["where are we located", "yes please now"], score.HeardPerLine);
    }
}
