// What the Node relying-party scripts share: loading openid-client, reading the line the Rust
// test hands over, and describing a failure with the provider's error body.

import { webcrypto } from 'node:crypto';
import { createInterface } from 'node:readline';

/** openid-client, with Web Crypto where it looks for it. */
export async function openidClient() {
  // Debian 12's Node 18 keeps Web Crypto off the global object, where openid-client looks for
  // it; newer Node has it there already.
  globalThis.crypto ??= webcrypto;
  return import('openid-client');
}

/** The first line of standard input. */
export function firstLine() {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve, reject) => {
    lines.once('line', (line) => {
      // Settled first: close() emits 'close' at once.
      resolve(line.trim());
      lines.close();
    });
    lines.once('close', () => reject(new Error('standard input closed before the expected line')));
  });
}

/** What an error says, with the provider's error body when there was one. */
export function describe(error) {
  const seen = { name: error?.name, message: error?.message, code: error?.code };
  for (const key of ['error', 'error_description', 'status']) {
    if (error?.[key] !== undefined) seen[key] = error[key];
  }
  if (error?.cause !== undefined) seen.cause = error.cause;
  return JSON.stringify(seen, null, 2);
}
