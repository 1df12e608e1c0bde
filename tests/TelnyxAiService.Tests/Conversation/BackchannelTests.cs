using TelnyxAiService.Conversation;

namespace TelnyxAiService.Tests.Conversation;

public sealed class BackchannelTests
{
    [Theory]
    [InlineData("ok")]
    [InlineData("Ajá.")]
    [InlineData("mm-hm")]
    [InlineData("Sí, vale")]
    [InlineData("uh-huh")]
    public void IsBackchannel_ListenerWordsAlone_True(string text) => Assert.True(Backchannel.IsBackchannel(text));

    [Theory]
    [InlineData("")]
    [InlineData("no, espere")]
    [InlineData("ok but I need Monday")]
    [InlineData("stop")]
    public void IsBackchannel_RealWords_False(string text) => Assert.False(Backchannel.IsBackchannel(text));

    [Fact]
    public void SameWords_IgnoresCaseAndPunctuation() => Assert.True(TurnText.SameWords("¿Tienen cita el lunes?", "tienen cita el lunes"));
}
