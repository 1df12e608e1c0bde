// The operator console: one page, a view per hash route (#/live, #/history, #/calls/<id>, #/campaigns[/<id>]).
import { api, getJson, setUpKeyForm, watch } from './api.js';
import { CallCard, el, latencyBar, legend, line, sizeBars, time, waits } from './calls.js';
import { setUpSoftphone } from './softphone.js';

const view = document.getElementById('view');
let leave = () => {};

function show(title, ...content) {
  document.title = `${title} · Telnyx AI Service`;
  view.replaceChildren(el('h2', {}, title), ...content);
  const section = location.hash.startsWith('#/calls/') ? '#/history' : (location.hash.match(/^#\/[a-z]+/) || ['#/live'])[0];
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function failure(error) {
  return el('p', { class: 'error', role: 'alert' }, error.message);
}

// Live calls: a card per call, kept a minute after it ends.
function liveView() {
  const cards = new Map();
  const list = el('div', { class: 'cards' });
  const empty = el('p', { class: 'empty' }, 'No call is live. Place one through the API, start a campaign, or talk to the agent.');
  show('Live calls', legend(), empty, list);
  const refreshEmpty = () => { empty.hidden = cards.size > 0; };
  const feedStatus = document.getElementById('feed-status');
  feedStatus.textContent = 'Connecting…';
  const stop = watch('/api/live', (event) => {
    feedStatus.textContent = 'Live';
    if (event.type === 'call') {
      const card = new CallCard(event);
      cards.get(event.call_id)?.node.remove();
      cards.set(event.call_id, card);
      list.prepend(card.node);
    } else if (cards.has(event.call_id)) {
      const card = cards.get(event.call_id);
      card.apply(event);
      if (event.type === 'ended') {
        setTimeout(() => {
          if (cards.get(event.call_id) === card) {
            cards.delete(event.call_id);
            card.node.remove();
            refreshEmpty();
          }
        }, 60000);
      }
    }
    refreshEmpty();
  }, (state) => {
    if (state === 'live') {
      // A new connection sends every live call again; calls that ended meanwhile are gone.
      for (const [id, card] of cards) if (!card.node.classList.contains('ended')) { card.node.remove(); cards.delete(id); }
      refreshEmpty();
    }
    feedStatus.textContent = state === 'live' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : state.message;
  });
  return () => { stop(); feedStatus.textContent = ''; };
}

// History: filters, a keyset-paged table, "Load more".
function historyView(params) {
  const field = (label, input) => el('label', {}, el('span', {}, label), input);
  const select = (name, options) => el('select', { name }, options.map(([value, text]) => {
    const option = el('option', { value }, text);
    option.selected = params.get(name) === value;
    return option;
  }));
  const text = (name, type = 'text') => el('input', { name, type, value: params.get(name) || '' });
  const form = el('form', { class: 'filters', 'aria-label': 'Filter calls' },
    field('Status', select('status', [['', 'Any'], ['queued', 'Queued'], ['dialing', 'Dialing'], ['answered', 'Answered'], ['completed', 'Completed'], ['failed', 'Failed'], ['busy', 'Busy'], ['no_answer', 'No answer']])),
    field('Direction', select('direction', [['', 'Any'], ['outbound', 'Outbound'], ['inbound', 'Inbound'], ['browser', 'Browser']])),
    field('Batch', text('batch')),
    field('Number', text('phone', 'search')),
    field('From', text('from', 'date')),
    field('To', text('to', 'date')),
    el('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) chosen.set(name, value);
    location.hash = `#/history?${chosen}`;
  });
  const rows = el('tbody');
  const more = el('button', { type: 'button', hidden: true }, 'Load more');
  const message = el('p', { role: 'status' });
  show('History', form, el('div', { class: 'scroll' }, el('table', {},
    el('caption', { class: 'visually-hidden' }, 'Stored calls, newest first'),
    el('thead', {}, el('tr', {}, ['Created', 'Direction', 'Number', 'Name', 'Status', 'End reason', 'Batch'].map((h) => el('th', { scope: 'col' }, h)))),
    rows)), message, more);

  const query = new URLSearchParams({ limit: '50' });
  for (const name of ['status', 'direction', 'batch', 'phone']) if (params.get(name)) query.set(name, params.get(name));
  if (params.get('from')) query.set('from', new Date(`${params.get('from')}T00:00`).toISOString());
  if (params.get('to')) query.set('to', new Date(`${params.get('to')}T23:59:59.999`).toISOString());
  const load = async () => {
    more.disabled = true;
    try {
      const page = await getJson(`/api/calls?${query}`);
      for (const call of page.calls) {
        rows.append(el('tr', {},
          el('td', {}, time(call.created_at)), el('td', {}, call.direction),
          el('td', {}, el('a', { href: `#/calls/${encodeURIComponent(call.call_id)}` }, call.phone)),
          el('td', {}, call.name || ''), el('td', {}, el('span', { class: `status ${call.status}` }, call.status.replaceAll('_', ' '))),
          el('td', {}, call.end_reason || ''), el('td', {}, call.batch_id ? el('a', { href: `#/campaigns/${encodeURIComponent(call.batch_id)}` }, call.batch_id) : '')));
      }
      message.textContent = rows.children.length === 0 ? 'No calls match.' : `${rows.children.length} calls shown.`;
      more.hidden = !page.next_cursor;
      if (page.next_cursor) query.set('cursor', page.next_cursor);
    } catch (error) {
      message.replaceChildren(failure(error));
    }
    more.disabled = false;
  };
  more.addEventListener('click', load);
  load();
  return () => {};
}

// One call: details, transcript, latency waterfall, recording, events.
function callView(id) {
  show('Call');
  let recordingUrl = null;
  (async () => {
    try {
      const { call, transcript, events } = await getJson(`/api/calls/${encodeURIComponent(id)}`);
      const details = [['Number', call.phone], ['Name', call.name], ['Direction', call.direction], ['Status', call.status],
        ['Created', time(call.created_at)], ['Answered', time(call.answered_at)], ['Ended', time(call.ended_at)],
        ['End reason', call.end_reason], ['Hang-up cause', call.hangup_cause], ['Campaign', call.batch_id], ['Call id', call.call_id]]
        .filter(([, value]) => value);
      const turns = transcript.filter((t) => t.speaker === 'agent' && t.latency && Object.keys(t.latency).length > 0);
      const longest = Math.max(1, ...turns.map((t) => waits(t.latency).reduce((sum, p) => sum + p.waited, 0)));
      const waterfall = el('ol', { class: 'waterfall' }, turns.map((t) => el('li', {},
        el('span', { class: 'turn' }, `Turn ${t.seq + 1}`), latencyBar(t.latency))));
      const recording = el('div', { class: 'recording' }, el('p', { role: 'status' }, 'Looking for a recording…'));
      show(`Call with ${call.name || call.phone}`,
        el('dl', { class: 'details' }, details.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)])),
        el('section', { 'aria-labelledby': 'recording-title' }, el('h3', { id: 'recording-title' }, 'Recording'), recording),
        el('section', { 'aria-labelledby': 'transcript-title' }, el('h3', { id: 'transcript-title' }, 'Transcript'),
          transcript.length ? el('ol', { class: 'transcript' }, transcript.map(line)) : el('p', {}, 'Nothing was said.')),
        el('section', { 'aria-labelledby': 'latency-title' }, el('h3', { id: 'latency-title' }, 'Latency per turn'),
          turns.length ? [legend(), waterfall] : el('p', {}, 'No timed agent turn.')),
        el('section', { 'aria-labelledby': 'events-title' }, el('h3', { id: 'events-title' }, 'Events'),
          el('div', { class: 'scroll' }, el('table', {},
            el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Received'), el('th', { scope: 'col' }, 'Event'))),
            el('tbody', {}, events.map((e) => el('tr', {}, el('td', {}, time(e.received_at)), el('td', {}, e.event_type))))))));
      sizeBars(waterfall, longest);
      for (const transcriptLine of view.querySelectorAll('.transcript .line')) sizeBars(transcriptLine);
      try {
        const audio = await (await api(`/api/calls/${encodeURIComponent(id)}/recording`)).blob();
        recordingUrl = URL.createObjectURL(audio);
        recording.replaceChildren(el('audio', { controls: true, src: recordingUrl, 'aria-label': 'Call recording' }));
      } catch (error) {
        recording.replaceChildren(el('p', {}, error.status === 404 ? 'No recording was kept.' : `The recording could not be loaded: ${error.message}`));
      }
    } catch (error) {
      show('Call', failure(error));
    }
  })();
  return () => { if (recordingUrl) URL.revokeObjectURL(recordingUrl); };
}

/** "line 3.telefono" → "Line 3 (telefono)", as the API keys a CSV's problems. */
function lineName(key) {
  const match = key.match(/^line (\d+)\.?(.*)$/);
  return match ? `Line ${match[1]}${match[2] ? ` (${match[2]})` : ''}` : key;
}

// Campaigns: start one from a CSV file, list recent ones.
function campaignsView() {
  const file = el('input', { id: 'csv-file', type: 'file', accept: '.csv,text/csv', required: true, 'aria-describedby': 'csv-help' });
  const result = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'upload' },
    el('label', { for: 'csv-file' }, 'CSV file'), file,
    el('p', { id: 'csv-help', class: 'hint' }, 'A header row (telefono,nombre,contexto,saludo or phone,name,context,greeting), then one number per line.'),
    el('button', { type: 'submit', class: 'primary' }, 'Start campaign'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    result.replaceChildren(el('p', {}, 'Uploading…'));
    try {
      const response = await api('/api/call/batch', { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: await file.files[0].text() });
      const batch = await response.json();
      location.hash = `#/campaigns/${encodeURIComponent(batch.batch_id)}`;
    } catch (error) {
      const errors = Object.entries(error.problem?.errors || {});
      result.replaceChildren(el('div', { class: 'error', role: 'alert' },
        el('p', {}, error.problem?.title || error.message),
        errors.length ? el('ul', {}, errors.map(([where, messages]) => el('li', {}, el('strong', {}, lineName(where)), `: ${messages.join('; ')}`))) : null));
    }
  });
  const recent = el('div', {}, el('p', {}, 'Loading campaigns…'));
  show('Campaigns', form, result, el('h3', {}, 'Recent campaigns'), recent);
  (async () => {
    try {
      const body = await getJson('/api/call/batch');
      const batches = Array.isArray(body) ? body : body.batches || [];
      recent.replaceChildren(batches.length === 0 ? el('p', {}, 'No campaign yet.') : el('div', { class: 'scroll' }, el('table', {},
        el('thead', {}, el('tr', {}, ['Campaign', 'Created', 'Numbers', 'State'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, batches.map((b) => el('tr', {},
          el('td', {}, el('a', { href: `#/campaigns/${encodeURIComponent(b.batch_id)}` }, b.batch_id)),
          el('td', {}, time(b.created_at)), el('td', {}, String(b.total ?? '')),
          el('td', {}, b.cancelled_at ? 'cancelled' : b.finished ? 'done' : 'running')))))));
    } catch (error) {
      recent.replaceChildren(el('p', {}, error.status === 404 || error.status === 405 ? 'This service does not list campaigns; open one from History.' : error.message));
    }
  })();
  return () => {};
}

// One campaign: progress bar and counts polled every second until it is done, cancel, per-number outcomes.
function campaignView(id) {
  const progress = el('progress', { max: '1', value: '0', 'aria-labelledby': 'progress-label' });
  const label = el('p', { id: 'progress-label', role: 'status' }, 'Loading…');
  const counts = el('ul', { class: 'counts', 'aria-label': 'Numbers by status' });
  const cancel = el('button', { type: 'button', class: 'danger' }, 'Cancel campaign');
  const rows = el('tbody');
  const message = el('div', { 'aria-live': 'polite' });
  show(`Campaign ${id}`, el('div', { class: 'progress' }, progress, label), counts, cancel, message,
    el('h3', {}, 'Numbers'),
    el('div', { class: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, ['#', 'Number', 'Name', 'Status', 'Last outcome', 'Attempts', 'Next attempt', 'Call'].map((h) => el('th', { scope: 'col' }, h)))),
      rows)));
  let timer = null;
  let gone = false;
  const poll = async () => {
    try {
      const batch = await getJson(`/api/call/batch/${encodeURIComponent(id)}`);
      const done = batch.total - (batch.counts.pending || 0) - (batch.counts.dialing || 0);
      progress.max = batch.total;
      progress.value = done;
      label.textContent = `${done} of ${batch.total} numbers done${batch.finished ? ' · finished' : ''}${batch.cancelled_at ? ' · cancelled' : ''}`;
      counts.replaceChildren(...Object.entries(batch.counts).filter(([, n]) => n > 0)
        .map(([name, n]) => el('li', { class: `status ${name}` }, `${name.replaceAll('_', ' ')}: ${n}`)));
      cancel.disabled = batch.finished || Boolean(batch.cancelled_at);
      rows.replaceChildren(...batch.items.map((item) => el('tr', {},
        el('td', {}, String(item.index + 1)), el('td', {}, item.phone), el('td', {}, item.name || ''),
        el('td', {}, el('span', { class: `status ${item.status}` }, item.status.replaceAll('_', ' '))),
        el('td', {}, (item.last_outcome || '').replaceAll('_', ' ')), el('td', {}, String(item.attempts)),
        el('td', {}, time(item.next_attempt_at)),
        el('td', {}, item.call_id ? el('a', { href: `#/calls/${encodeURIComponent(item.call_id)}` }, 'Open') : ''))));
      if (!batch.finished && !gone) timer = setTimeout(poll, 1000);
    } catch (error) {
      message.replaceChildren(failure(error));
    }
  };
  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await api(`/api/call/batch/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
      message.replaceChildren(el('p', {}, 'Campaign cancelled: numbers not yet dialled will not be.'));
      clearTimeout(timer);
      poll();
    } catch (error) {
      message.replaceChildren(failure(error));
      cancel.disabled = false;
    }
  });
  poll();
  return () => { gone = true; clearTimeout(timer); };
}

function route() {
  leave();
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'history') leave = historyView(params);
  else if (parts[0] === 'calls' && parts[1]) leave = callView(parts[1]);
  else if (parts[0] === 'campaigns' && parts[1]) leave = campaignView(parts[1]);
  else if (parts[0] === 'campaigns') leave = campaignsView();
  else leave = liveView();
}

setUpKeyForm();
setUpSoftphone();
window.addEventListener('hashchange', () => { route(); view.focus(); });
route();
