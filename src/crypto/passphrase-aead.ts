// AES-256-GCM under a key derived from a passphrase with scrypt: the one construction behind the
// secrets store and encrypted snapshots. Callers own their file formats; this owns the crypto, the
// bounds on parameters read from a file, and the key cache.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** A forged file must not make us allocate gigabytes: scrypt needs 128·N·r·p bytes. */
const MAX_MEM = 256 << 20;

export function scryptParamsInRange({ N, r, p }: ScryptParams): boolean {
  const pow2 = Number.isInteger(N) && N >= 2 && (N & (N - 1)) === 0;
  return pow2 && Number.isInteger(r) && Number.isInteger(p) && r >= 1 && p >= 1 && p <= 16 && 128 * N * r * p <= MAX_MEM / 2;
}

/** Derived keys of this process, so a read-modify-write pays scrypt once, not twice. */
const keyCache = new Map<string, Buffer>();

export function deriveKey(passphrase: string, salt: Buffer, { N, r, p }: ScryptParams): Buffer {
  const id = JSON.stringify([passphrase, salt.toString('base64'), N, r, p]);
  let key = keyCache.get(id);
  if (!key) {
    key = scryptSync(Buffer.from(passphrase, 'utf8'), salt, 32, { N, r, p, maxmem: MAX_MEM });
    keyCache.set(id, key);
  }
  return key;
}

export interface Sealed {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** A fresh random 12-byte IV, for a caller whose authenticated header must hold it. */
export const newIv = (): Buffer => randomBytes(12);

/** Encrypts (by default with a fresh random IV); `aad` is authenticated, not encrypted. */
export function seal(key: Buffer, plain: Buffer, aad: Buffer, iv: Buffer = newIv()): Sealed {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** The plaintext, or null when authentication fails: a wrong passphrase or an altered file. */
export function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer | null {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    return null;
  }
}
