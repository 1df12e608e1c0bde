// "Talk to the agent": the microphone to the service and the agent's voice back over the call's WebSocket, as 16-bit
// PCM at 16 kHz, with the call's transcript from the live feed.
import { api, watch } from './api.js';
import { CallCard } from './calls.js';

const talkButton = () => document.getElementById('talk');
const hangUpButton = () => document.getElementById('hang-up');
const status = (text) => { document.getElementById('talk-status').textContent = text; };

let call = null;

async function start() {
  talkButton().disabled = true;
  status('Connecting…');
  const session = { closed: false };
  call = session;
  try {
    session.audio = new AudioContext({ sampleRate: 16000 });
    await Promise.all([
      session.audio.audioWorklet.addModule('/console/capture-worklet.js'),
      session.audio.audioWorklet.addModule('/console/playback-worklet.js'),
    ]);
    session.microphone = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const { call_id: callId, stream_url: streamUrl } = await (await api('/api/browser/calls', { method: 'POST' })).json();
    session.id = callId;
    if (session.closed) return;
    connect(session, streamUrl);
    const holder = document.getElementById('talk-call');
    holder.replaceChildren();
    session.stopWatching = watch(`/api/live?call=${encodeURIComponent(callId)}`, (event) => {
      if (event.type === 'call') {
        session.card = new CallCard(event);
        holder.replaceChildren(session.card.node);
      } else if (event.call_id === callId) {
        session.card?.apply(event);
        if (event.type === 'ended') end(session, 'The call ended.');
      }
    });
    hangUpButton().disabled = false;
  } catch (error) {
    end(session, error.name === 'NotAllowedError' ? 'The microphone is blocked: allow it for this page.' : `Could not start: ${error.message}`);
  }
}

function connect(session, streamUrl) {
  const url = new URL(streamUrl, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  session.socket = socket;
  const source = session.audio.createMediaStreamSource(session.microphone);
  const capture = new AudioWorkletNode(session.audio, 'pcm-capture');
  const playback = new AudioWorkletNode(session.audio, 'pcm-playback', { numberOfInputs: 0, outputChannelCount: [1] });
  source.connect(capture).connect(session.audio.destination);
  playback.connect(session.audio.destination);
  capture.port.onmessage = ({ data }) => {
    if (socket.readyState === WebSocket.OPEN && session.started) socket.send(data);
  };
  playback.port.onmessage = ({ data }) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ event: 'mark', name: data.mark }));
  };
  socket.onmessage = ({ data }) => {
    if (typeof data !== 'string') {
      playback.port.postMessage({ pcm: data }, [data]);
      return;
    }
    const message = JSON.parse(data);
    if (message.event === 'start') {
      session.started = true;
      status('On the call: speak any time, even over the agent.');
    } else if (message.event === 'mark') {
      playback.port.postMessage({ mark: message.name });
    } else if (message.event === 'clear') {
      playback.port.postMessage({ clear: true });
    }
  };
  socket.onclose = () => end(session, 'The call ended.');
  socket.onerror = () => end(session, 'The call was cut off.');
}

/** Hangs up (when the page ends the call) and releases the microphone, the audio and the socket. */
function end(session, message) {
  if (session.closed) return;
  session.closed = true;
  if (session.socket?.readyState === WebSocket.OPEN) session.socket.send(JSON.stringify({ event: 'hangup' }));
  session.socket?.close();
  session.microphone?.getTracks().forEach((track) => track.stop());
  session.audio?.close();
  // Keep the transcript's last events coming for a moment, so the final line and the end are shown.
  setTimeout(() => session.stopWatching?.(), 5000);
  if (call === session) call = null;
  talkButton().disabled = false;
  hangUpButton().disabled = true;
  status(message);
  talkButton().focus();
}

export function setUpSoftphone() {
  talkButton().addEventListener('click', start);
  hangUpButton().addEventListener('click', () => call && end(call, 'You hung up.'));
}
