// What the Node clients of the Rust tests share: reading the callback URL the test hands over.

import { createInterface } from 'node:readline';

/** The first line of standard input. */
export function firstLine() {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve, reject) => {
    lines.once('line', (line) => {
      // Settled first: close() emits 'close' at once.
      resolve(line.trim());
      lines.close();
    });
    lines.once('close', () => reject(new Error('standard input closed before the callback URL')));
  });
}
