using System.Globalization;

namespace TelnyxAiService.Bench;

/// <summary>What the figures were measured on.</summary>
internal static class Machine
{
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    public static string Describe()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var memKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var gb = long.Parse(memKb, CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
        return string.Create(CultureInfo.InvariantCulture, $"nproc {Environment.ProcessorCount}, CPU \"{cpu}\", RAM {gb:0.0} GB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
    }
}
