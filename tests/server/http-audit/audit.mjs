// Runs every graphql-http server audit against a live server and prints one JSON line per audit.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
// Exit status: 0 when no MUST ("error") and no SHOULD ("warn") audit failed, 1 otherwise.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}

const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  const line = { id: result.id, status: result.status, name: result.name };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    line.httpStatus = result.response.status;
    line.body = await result.response.text().catch(() => '');
  }
  console.log(JSON.stringify(line));
}
console.log(JSON.stringify({ summary: counts, total: results.length }));
process.exit(counts.error + counts.warn > 0 ? 1 : 0);
