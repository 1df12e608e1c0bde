// The authenticated API: the key lives in sessionStorage and travels only in the Authorization header, never in a URL.
const keyName = 'telnyx-ai-service.api-key';
const keyWaiters = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The service answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

function headers(extra) {
  const all = new Headers(extra);
  const key = sessionStorage.getItem(keyName);
  if (key) all.set('Authorization', `Bearer ${key}`);
  return all;
}

/** Shows the "API key" field; resolves once a key is entered. */
function askForKey(message) {
  const form = document.getElementById('key-form');
  document.getElementById('key-message').textContent = message;
  if (form.hidden) {
    form.hidden = false;
    document.getElementById('api-key').focus();
  }
  return new Promise((resolve) => keyWaiters.add(resolve));
}

export function setUpKeyForm() {
  const form = document.getElementById('key-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('api-key');
    sessionStorage.setItem(keyName, input.value.trim());
    input.value = '';
    form.hidden = true;
    for (const resolve of keyWaiters) resolve();
    keyWaiters.clear();
  });
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** fetch() with the key; on 401 it asks for the key and tries again, any other failure is an ApiError. */
export async function api(path, options = {}) {
  for (;;) {
    const response = await fetch(path, { ...options, headers: headers(options.headers), cache: 'no-store' });
    if (response.status === 401) {
      await askForKey(sessionStorage.getItem(keyName) ? 'That API key was refused. Enter the right one.' : 'This service needs its API key.');
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, await problemOf(response));
    return response;
  }
}

export async function getJson(path) {
  return (await api(path)).json();
}

/**
 * Reads a Server-Sent Events stream with fetch (EventSource cannot send the key) and calls onEvent with each parsed
 * data object; reconnects with backoff. onStatus gets 'live', 'reconnecting' or an Error. Returns a stop function.
 */
export function watch(path, onEvent, onStatus = () => {}) {
  const stop = new AbortController();
  (async () => {
    let delay = 500;
    while (!stop.signal.aborted) {
      try {
        const response = await api(path, { signal: stop.signal, headers: { Accept: 'text/event-stream' } });
        onStatus('live');
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        let data = [];
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          const lines = buffer.split(/\r\n|\r|\n/);
          buffer = lines.pop();
          for (const line of lines) {
            if (line === '') {
              if (data.length > 0) onEvent(JSON.parse(data.join('\n')));
              data = [];
              delay = 500;
            } else if (line.startsWith('data:')) {
              data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
            }
          }
        }
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error instanceof ApiError) onStatus(error);
      }
      if (stop.signal.aborted) return;
      onStatus('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
  return () => stop.abort();
}
