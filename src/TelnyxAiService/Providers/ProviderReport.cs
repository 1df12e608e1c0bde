using System.Runtime.InteropServices;
using TelnyxAiService.Speech.Pocketsphinx;
using TelnyxAiService.Voice.Flite;

namespace TelnyxAiService.Providers;

/// <summary>
/// At startup: one line per provider saying who serves it (vendor, emulator or offline engine), and for the offline
/// engines a check that their Debian packages are installed, so a missing one is one clear error, not a failed call.
/// </summary>
public static class ProviderReport
{
    /// <summary>Prints the providers; false (after one error line per missing package) when an offline engine cannot run.</summary>
    public static bool ReportProviders(this WebApplication app)
    {
        var missing = new List<string>();
        foreach (var provider in app.Services.GetServices<ProviderInfo>())
        {
            Console.WriteLine($"{provider.Capability}: {provider.Provider} ({Describe(provider)})");
            if (provider.Mode == ProviderMode.Offline)
            {
                missing.AddRange(MissingPackages(provider.Provider, app.Services));
            }
        }

        foreach (var package in missing.Distinct())
        {
            Console.Error.WriteLine($"error: the Debian package {package} is not installed: sudo apt-get install {package} (or run scripts/setup)");
        }

        return missing.Count == 0;
    }

    private static string Describe(ProviderInfo provider) => (provider.Mode, provider.Provider) switch
    {
        (ProviderMode.Offline, "pocketsphinx") => "offline, English, 16 kHz",
        (ProviderMode.Offline, "flite") => "offline, 16 kHz; espeak-ng for languages other than English",
        (ProviderMode.Offline, "rules") => "offline, rules script (AGENT_SCRIPT); set ANTHROPIC_API_KEY for Claude",
        (ProviderMode.Offline, _) => "offline",
        (ProviderMode.Off, _) => "not configured: phone calls are off until TELNYX_API_KEY is set; the console's Talk to the agent works",
        (var mode, _) => $"{mode.ToString().ToLowerInvariant()} at {provider.BaseUrl}",
    };

    private static IEnumerable<string> MissingPackages(string provider, IServiceProvider services)
    {
        switch (provider)
        {
            case "pocketsphinx":
                if (!NativeLibrary.TryLoad("libpocketsphinx.so.3", out var library))
                {
                    yield return "pocketsphinx";
                }
                else
                {
                    NativeLibrary.Free(library);
                }

                if (!Directory.Exists(services.GetRequiredService<PocketsphinxOptions>().AcousticModel))
                {
                    yield return "pocketsphinx-en-us";
                }

                break;
            case "flite":
                string[] programs = services.GetRequiredService<FliteOptions>().IsEnglish ? ["flite"] : ["espeak-ng", "sox"];
                foreach (var program in programs.Where(p => !OnPath(p)))
                {
                    yield return program;
                }

                break;
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(dir => File.Exists(Path.Combine(dir, program)));
}
