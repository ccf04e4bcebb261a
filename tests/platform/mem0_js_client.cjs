// Drives mem0's JavaScript MemoryClient against a host, the way an application would.
// Usage: node mem0_js_client.cjs <dir holding node_modules/mem0ai> <host> <api key>  < operations.json
// operations.json: [{"op": "add", "args": [...]}, ...]; each op is a MemoryClient method name.
// Prints one JSON array: for every operation {"ok": true, "result": ...} or {"ok": false, "name", "error"}.
"use strict";
const path = require("path");

async function main() {
  const [dir, host, apiKey] = process.argv.slice(2);
  const { MemoryClient } = require(path.join(dir, "node_modules", "mem0ai"));
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const operations = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const client = new MemoryClient({ apiKey, host });
  const outcomes = [];
  for (const { op, args } of operations) {
    try {
      outcomes.push({ ok: true, result: await client[op](...(args || [])) });
    } catch (error) {
      outcomes.push({ ok: false, name: error.name, error: String(error.message || error) });
    }
  }
  process.stdout.write(JSON.stringify(outcomes));
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error));
  process.exit(1);
});
