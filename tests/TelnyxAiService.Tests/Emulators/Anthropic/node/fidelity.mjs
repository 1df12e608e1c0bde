// Runs the official Anthropic TypeScript SDK against the emulator and prints what it saw as one JSON object.
// Usage: node fidelity.mjs <baseUrl> <apiKey> <happy|faults>
import Anthropic from '@anthropic-ai/sdk';

const [baseURL, apiKey, scenario] = process.argv.slice(2);
const params = { model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] };
const client = new Anthropic({ baseURL, apiKey, maxRetries: 0 });

async function stream(c) {
  const deltas = [];
  const s = c.messages.stream(params);
  s.on('text', (t) => deltas.push(t));
  const message = await s.finalMessage();
  return { deltas, stop_reason: message.stop_reason, content: message.content, usage: message.usage };
}

async function failure(run) {
  try {
    await run();
    return { threw: false };
  } catch (e) {
    return { threw: true, name: e.constructor.name, status: e.status ?? null, error: JSON.stringify(e.error ?? null), message: String(e.message) };
  }
}

const out = {};
if (scenario === 'happy') {
  out.text = await stream(client);
  out.tool = await stream(client);
  const created = await client.messages.create(params);
  out.created = { text: created.content[0].text, stop_reason: created.stop_reason };
  out.unauthorized = await failure(() => new Anthropic({ baseURL, apiKey: 'wrong', maxRetries: 0 }).messages.create(params));
} else {
  out.overloaded = await failure(() => client.messages.create(params));
  out.midStream = await failure(() => stream(client));
  out.retried = await stream(new Anthropic({ baseURL, apiKey, maxRetries: 1 }));
}
console.log(JSON.stringify(out));
