// Reads what `openssl enc -aes-256-cbc -pbkdf2 -salt` wrote (the Python tool's secrets files),
// natively: no openssl binary needed. Layout: "Salted__", an 8-byte salt, then the ciphertext.
// Key and IV come from one PBKDF2-HMAC-SHA256 run over the password and salt with openssl's
// -pbkdf2 default of 10000 iterations: 48 bytes, the first 32 the key, the next 16 the IV.
import { createDecipheriv, pbkdf2Sync } from 'node:crypto';

const MAGIC = Buffer.from('Salted__', 'latin1');
const ITERATIONS = 10_000;

/** Whether the bytes have openssl's salted header (so a wrong password is the only way to fail). */
export function isOpensslSalted(bytes: Buffer): boolean {
  return bytes.length >= 16 + 16 && bytes.subarray(0, 8).equals(MAGIC) && (bytes.length - 16) % 16 === 0;
}

/**
 * The plaintext, or null when the password is wrong: PKCS#7 padding that does not check out, or
 * (one time in a few hundred, when garbage happens to end in valid padding) text that is not UTF-8.
 */
export function decryptOpensslEnc(bytes: Buffer, password: string): string | null {
  if (!isOpensslSalted(bytes)) return null;
  const salt = bytes.subarray(8, 16);
  const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 48, 'sha256');
  const decipher = createDecipheriv('aes-256-cbc', derived.subarray(0, 32), derived.subarray(32, 48));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(bytes.subarray(16)), decipher.final()]);
  } catch {
    return null;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    return null;
  }
}
