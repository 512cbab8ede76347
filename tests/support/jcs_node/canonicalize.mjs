// RFC 8785 by the reference implementation's own npm package (by an author of the RFC).
// Reads JSON texts from stdin, one per line; writes one line for each: the canonical
// form's UTF-8 bytes in base64, or "!" and why it has none.
import canonicalize from 'canonicalize';
import { createInterface } from 'node:readline';

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  try {
    process.stdout.write(Buffer.from(canonicalize(JSON.parse(line)), 'utf8').toString('base64') + '\n');
  } catch (error) {
    process.stdout.write('!' + error.message + '\n');
  }
}
