namespace TelnyxAiService.Conversation;

/// <summary>The few fixed lines the agent says without the language model, per language.</summary>
public sealed record Phrases(
    string Instructions,
    string GreetingWithName,
    string Greeting,
    string Fallback,
    string AreYouStillThere,
    string IdleGoodbye,
    string TimeLimitGoodbye,
    string StreamFailed,
    string Resumed)
{
    private static readonly Phrases Spanish = new(
        "Eres un agente telefónico amable y eficaz. Hablas por teléfono: respuestas breves y naturales.",
        "Hola {0}, le llamo en nombre de nuestro equipo. ¿Tiene un momento?",
        "Hola, gracias por atender. ¿En qué puedo ayudarle?",
        "Disculpe, tengo un problema técnico en este momento. ¿Puede repetirlo, por favor?",
        "¿Sigue ahí?",
        "Parece que no me escucha. Le llamaremos en otro momento. Adiós.",
        "Tenemos que terminar la llamada. Gracias por su tiempo. Adiós.",
        "Lo siento, tenemos un problema con la línea. Le llamaremos de nuevo. Adiós.",
        "Perdone, se cortó la línea un momento. ¿Me decía?");

    private static readonly Phrases English = new(
        "You are a friendly, efficient phone agent. You are on a phone call: keep replies short and natural.",
        "Hi {0}, I'm calling on behalf of our team. Do you have a moment?",
        "Hello, thanks for taking the call. How can I help you?",
        "Sorry, I'm having a technical problem right now. Could you say that again, please?",
        "Are you still there?",
        "It seems you can't hear me. We'll call you another time. Goodbye.",
        "We have to end the call now. Thank you for your time. Goodbye.",
        "Sorry, we have a problem with the line. We'll call you back. Goodbye.",
        "Sorry, the line cut out for a moment. Where were we?");

    public static Phrases For(string language) => language.StartsWith("es", StringComparison.Ordinal) ? Spanish : English;

    public string GreetingFor(string name) => string.IsNullOrWhiteSpace(name) ? Greeting : string.Format(System.Globalization.CultureInfo.InvariantCulture, GreetingWithName, name);
}
