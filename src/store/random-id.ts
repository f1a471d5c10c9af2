// Random hex ids for sessions, workflows, lock tokens and temp files.

export function randomHex(bytes: number): string {
  // Required on use: loading node:crypto costs read-only commands start-up time they never need.
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  return randomBytes(bytes).toString('hex');
}
