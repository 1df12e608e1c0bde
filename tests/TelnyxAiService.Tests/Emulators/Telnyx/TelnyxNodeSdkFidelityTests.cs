using System.Diagnostics;
using System.Text.Json;
using TelnyxAiService.Telephony;
using TelnyxAiService.Tests.Telephony;

namespace TelnyxAiService.Tests.Emulators.Telnyx;

/// <summary>
/// The official telnyx npm package (7.24.0) verifies webhooks the emulator signed. Skipped until
/// scripts/setup has installed it.
/// </summary>
public sealed class TelnyxNodeSdkFidelityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NodeFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var folder = Path.Combine(dir.FullName, "tests", "TelnyxAiService.Tests", "Emulators", "Telnyx", "node");
            if (Directory.Exists(folder))
            {
                return folder;
            }
        }

        return "";
    }

    private static async Task<string> VerifyWithSdkAsync(string folder, string publicKey, byte[] body, ReceivedWebhook webhook)
    {
        var start = new ProcessStartInfo("node", "verify.mjs")
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        await node.StandardInput.WriteAsync(JsonSerializer.Serialize(new
        {
            key = publicKey,
            body = Convert.ToBase64String(body),
            headers = new Dictionary<string, string?>
            {
                ["Telnyx-Signature-Ed25519"] = webhook.Signature,
                ["Telnyx-Timestamp"] = webhook.Timestamp,
            },
        }).AsMemory(), Ct);
        node.StandardInput.Close();
        var output = await node.StandardOutput.ReadToEndAsync(Ct);
        await node.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        return output.Trim();
    }

    [Fact]
    public async Task OfficialNodeSdk_EmulatorSignedWebhook_VerifiesAndRejectsTampering()
    {
        var folder = NodeFolder();
        if (!File.Exists(Path.Combine(folder, "node_modules", "telnyx", "package.json")))
        {
            Assert.Skip("Run scripts/setup to install the telnyx npm package.");
        }

        await using var h = await TelnyxHarness.StartAsync();
        await h.CallControl.DialAsync(new DialRequest("+18124040851", "call-42", Guid.NewGuid().ToString(), null), Ct);
        await h.Emulator.WaitForWebhookAsync(w => w.EventType == "call.answered" && w.StatusCode == 200, TimeSpan.FromSeconds(20), Ct);
        var answered = h.Receiver.Received.Single(r => r.Event.EventType == "call.answered");
        var tampered = answered.Body.ToArray();
        tampered[^3] ^= 1;

        Assert.Equal("valid call.answered", await VerifyWithSdkAsync(folder, h.Emulator.PublicKeyBase64, answered.Body, answered));
        Assert.StartsWith("invalid: Signature verification failed", await VerifyWithSdkAsync(folder, h.Emulator.PublicKeyBase64, tampered, answered), StringComparison.Ordinal);
    }
}
