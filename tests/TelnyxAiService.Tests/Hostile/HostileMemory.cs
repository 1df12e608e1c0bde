using System.Runtime;

namespace TelnyxAiService.Tests.Hostile;

internal static class HostileMemory
{
    /// <summary>Live managed bytes after a full, compacting collection (large objects included).</summary>
    public static long Managed()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
