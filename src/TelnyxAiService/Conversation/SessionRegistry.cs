using System.Collections.Concurrent;

namespace TelnyxAiService.Conversation;

/// <summary>The live calls of this instance, by our call id, by Telnyx call_control_id and by media-stream token.</summary>
public sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<string, CallSession> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CallSession> _byCallControlId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CallSession> _byStreamToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _arriving = new(StringComparer.Ordinal);

    public int Count => _byId.Count;

    public IEnumerable<CallSession> All => _byId.Values;

    /// <summary>Calls taken over whose sessions are about to start here, by call id and call_control_id.</summary>
    public void ExpectArriving(IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            _arriving[key] = true;
        }
    }

    /// <summary>Ends the expectation of <see cref="ExpectArriving"/>.</summary>
    public void StopExpecting(IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            _arriving.TryRemove(key, out _);
        }
    }

    /// <summary>Whether the call is one taken over whose session has not started yet.</summary>
    public bool IsArriving(string? callId, string? callControlId) =>
        (callId is not null && _arriving.ContainsKey(callId)) || (callControlId is not null && _arriving.ContainsKey(callControlId));

    public void Add(CallSession session)
    {
        _byId[session.CallId] = session;
        if (session.StreamToken is { } token)
        {
            _byStreamToken[token] = session;
        }
    }

    public void SetCallControlId(CallSession session, string callControlId)
    {
        session.SetCallControlId(callControlId);
        _byCallControlId[callControlId] = session;
    }

    public void Remove(CallSession session)
    {
        _byId.TryRemove(session.CallId, out _);
        if (session.CallControlId is { } ccid)
        {
            _byCallControlId.TryRemove(ccid, out _);
        }

        if (session.StreamToken is { } token)
        {
            _byStreamToken.TryRemove(token, out _);
        }
    }

    public CallSession? Find(string? callId, string? callControlId)
    {
        if (callId is not null && _byId.TryGetValue(callId, out var byId))
        {
            return byId;
        }

        return callControlId is not null && _byCallControlId.TryGetValue(callControlId, out var byCcid) ? byCcid : null;
    }

    public CallSession? FindByStreamToken(string token) => _byStreamToken.GetValueOrDefault(token);
}
