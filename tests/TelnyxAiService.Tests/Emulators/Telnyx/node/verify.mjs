// Reads {"key":"<base64>","body":"<base64 raw body>","headers":{...}} on stdin and verifies it with the official
// telnyx SDK (client.webhooks.unwrap). Prints "valid <event_type>" and exits 0, or "invalid: <reason>" and exits 1.
import Telnyx from 'telnyx';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { key, body, headers } = JSON.parse(input);
const client = new Telnyx({ apiKey: 'unused', publicKey: key });
try {
  const event = await client.webhooks.unwrap(Buffer.from(body, 'base64').toString('utf8'), { headers });
  console.log(`valid ${event.data.event_type}`);
} catch (e) {
  console.log(`invalid: ${e.message}`);
  process.exit(1);
}
