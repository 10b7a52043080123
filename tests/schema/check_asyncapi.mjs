// Parse docs/asyncapi.yaml with the AsyncAPI project's own parser (@asyncapi/parser: the AsyncAPI 3
// JSON Schema plus its semantic rules) and print its diagnostics as JSON, one object per line.
// Usage: node tests/schema/check_asyncapi.mjs docs/asyncapi.yaml
import fs from 'node:fs';
import { Parser } from '@asyncapi/parser';

const source = fs.readFileSync(process.argv[2], 'utf8');
const { document, diagnostics } = await new Parser().parse(source);
for (const d of diagnostics) {
  // severity: 0 error, 1 warning, 2 information, 3 hint (Spectral's scale)
  console.log(JSON.stringify({ severity: d.severity, code: d.code, message: d.message, path: d.path }));
}
console.log(JSON.stringify({ parsed: Boolean(document), version: document?.version() ?? null }));
