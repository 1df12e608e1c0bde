// How a call is drawn: transcript lines, per-stage latency bars and the live call card.

/** Creates an element: el('p', { class: 'x' }, 'text', child). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

export const stages = [
  ['end_of_speech_to_decision', 'end of speech → decision'],
  ['decision_to_first_token', 'decision → first token'],
  ['first_token_to_first_sentence', 'first token → first sentence'],
  ['sentence_to_tts_first_byte', 'sentence → TTS first byte'],
  ['tts_first_byte_to_first_frame', 'TTS first byte → first frame'],
];

const stateNames = {
  ringing: 'Ringing',
  listening: 'Listening',
  caller_speaking: 'Caller speaking',
  agent_speaking: 'Agent speaking',
};

export function time(value) {
  return value ? new Date(value).toLocaleString() : '';
}

/**
 * What the caller waited for at each stage: the stages laid end to end from the end of their speech, each segment only
 * the time it added. A speculative reply did its work before the turn was decided (its later stages are negative), so
 * those stages add nothing and the segments sum to the voice-to-voice total.
 */
export function waits(latency) {
  let at = 0;
  let reached = 0;
  return stages.filter(([key]) => latency?.[key] !== undefined && latency[key] !== null).map(([key, name]) => {
    at += latency[key];
    const waited = Math.max(0, at - reached);
    reached = Math.max(reached, at);
    return { key, name, ms: latency[key], waited };
  });
}

/** A horizontal bar with one segment per stage (sized by sizeBars) and the voice-to-voice total. */
export function latencyBar(latency) {
  const parts = waits(latency);
  const total = latency?.voice_to_voice;
  if (parts.length === 0 && total === undefined) return null;
  const early = parts.some((p) => p.ms < 0);
  const summary = parts.map((p) => `${p.name} ${p.ms} ms`).join(', ');
  return el('div', { class: 'latency', role: 'img', 'aria-label': `Latency: ${summary}${total !== undefined ? `; voice to voice ${total} ms` : ''}${early ? '; the answer was prepared before the turn ended' : ''}` },
    el('div', { class: 'bar' }, parts.filter((p) => p.waited > 0).map((p) =>
      el('span', { class: `stage s${stages.findIndex(([k]) => k === p.key)}`, title: `${p.name}: ${p.ms} ms`, 'data-ms': p.waited },
        `${p.waited}`))),
    total !== undefined ? el('span', { class: 'total' }, `${total} ms${early ? ' (prepared early)' : ''}`) : null);
}

/** Sizes the bar segments from their data-ms (inline styles are barred by the page's CSP, CSSOM is not), once in the page. */
export function sizeBars(root, scale) {
  for (const bar of root.querySelectorAll('.latency .bar')) {
    const segments = [...bar.children];
    const sum = segments.reduce((s, seg) => s + Number(seg.dataset.ms), 0) || 1;
    const full = scale || sum;
    bar.style.width = `${Math.max(2, (100 * sum) / full)}%`;
    for (const seg of segments) {
      seg.style.flexGrow = String(Math.max(Number(seg.dataset.ms), 1));
      // A label only where it fits; every stage's figure stays in the title and the bar's label.
      seg.textContent = (Number(seg.dataset.ms) / full) * bar.parentElement.clientWidth >= 28 ? seg.dataset.ms : '';
    }
  }
}

export function legend() {
  return el('ul', { class: 'legend', 'aria-label': 'Latency stages' },
    stages.map(([, name], i) => el('li', {}, el('span', { class: `swatch s${i}`, 'aria-hidden': 'true' }), name)));
}

/** One transcript line; an interrupted agent line ends with a mark where the caller cut in. */
export function line(entry) {
  const who = entry.speaker === 'agent' ? 'Agent' : 'Caller';
  const node = el('li', { class: `line ${entry.speaker}${entry.interrupted ? ' interrupted' : ''}` },
    el('span', { class: 'who' }, who),
    el('span', { class: 'text' }, entry.text),
    entry.interrupted ? el('span', { class: 'cut', title: 'The caller cut in here' }, ' — cut off') : null);
  if (entry.speaker === 'agent') {
    const bar = latencyBar(entry.latency);
    if (bar) node.append(bar);
  }
  return node;
}

/** A call as it happens: header, state badge, transcript and the words in progress. */
export class CallCard {
  constructor(snapshot) {
    this.id = snapshot.call_id;
    this.state = el('span', { class: 'badge' });
    this.lines = el('ol', { class: 'transcript', 'aria-live': 'polite', 'aria-label': 'Transcript' });
    this.callerWords = el('p', { class: 'words caller', hidden: true });
    this.agentWords = el('p', { class: 'words agent', hidden: true });
    this.node = el('article', { class: 'call-card', 'data-call': this.id, 'aria-label': `Call with ${snapshot.name || snapshot.phone}` },
      el('header', {},
        el('h3', {}, el('a', { href: `#/calls/${encodeURIComponent(this.id)}` }, snapshot.phone || 'Browser'), snapshot.name ? ` · ${snapshot.name}` : ''),
        el('span', { class: 'direction' }, snapshot.direction),
        this.state),
      this.lines, this.callerWords, this.agentWords);
    for (const entry of snapshot.lines || []) this.add(entry);
    this.setState(snapshot.state);
    this.words('caller', snapshot.caller_words);
    this.words('agent', snapshot.agent_words);
  }

  setState(state) {
    this.state.textContent = stateNames[state] || state;
    this.state.className = `badge ${state}`;
  }

  words(speaker, text) {
    const node = speaker === 'agent' ? this.agentWords : this.callerWords;
    node.hidden = !text;
    node.textContent = text ? `${speaker === 'agent' ? 'Agent' : 'Caller'}: ${text}…` : '';
  }

  add(entry) {
    const node = line(entry);
    this.lines.append(node);
    requestAnimationFrame(() => sizeBars(node));
    this.words(entry.speaker, '');
  }

  /** Applies one /api/live event for this call. */
  apply(event) {
    switch (event.type) {
      case 'state': this.setState(event.state); break;
      case 'caller_words': this.words('caller', event.text); break;
      case 'agent_words': this.words('agent', event.text); break;
      case 'line': this.add(event.line); break;
      case 'ended':
        this.setState('ended');
        this.state.textContent = `Ended · ${event.outcome.replaceAll('_', ' ')}`;
        this.words('caller', '');
        this.words('agent', '');
        this.node.classList.add('ended');
        break;
    }
  }
}
