// The encrypted store file: JSON with the key-derivation parameters, the secret NAMES, and the
// values sealed with AES-256-GCM under a key from scrypt. Names stay readable so `list`, `sources`
// and a `get` that does not need this file work without the passphrase; they are the GCM
// associated data, so altering them (or any parameter) fails authentication like a wrong
// passphrase does. Every seal uses a fresh random 12-byte IV.
import { randomBytes } from 'node:crypto';
import { deriveKey, open, scryptParamsInRange, seal } from '../crypto/passphrase-aead.ts';
import { CorruptFileError, WrongPassphraseError } from '../errors.ts';

export const STORE_FORMAT = 'orchestrator-secrets' as const;

/**
 * scrypt cost: N=2^14, r=8, p=1 (16 MiB), the scrypt paper's setting for interactive logins.
 * Measured on this 2-core machine: 90-100 ms in a fresh process; N=2^15 took 175-270 ms. Agents
 * call `secrets get` often, so a second per call is too much, while 2^14 still makes each guess
 * of a passphrase cost 16 MiB and tens of milliseconds. The file records N, r, p and the salt,
 * so these defaults can change without breaking stores written before.
 */
export const DEFAULT_KDF = { N: 1 << 14, r: 8, p: 1 } as const;

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  /** base64, 16 bytes. */
  salt: string;
}

export interface StoreEnvelope {
  format: typeof STORE_FORMAT;
  version: 1;
  kdf: KdfParams;
  cipher: 'aes-256-gcm';
  /** Sorted secret names (authenticated, not secret). */
  names: string[];
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Parses and checks the envelope's shape; never needs the passphrase. */
export function parseEnvelope(text: string, shown: string): StoreEnvelope {
  const bad = (why: string) =>
    new CorruptFileError(`${shown}: not a valid secrets store (${why}); restore it from a backup, or delete it and set the secrets again`);
  let v: any;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (!v || typeof v !== 'object' || v.format !== STORE_FORMAT) throw bad('unknown format');
  if (v.version !== 1) throw bad(`version ${String(v.version)} is newer than this orchestrator reads; upgrade orchestrator`);
  const k = v.kdf;
  if (!k || k.name !== 'scrypt' || !scryptParamsInRange(k)) throw bad('bad kdf parameters');
  if (v.cipher !== 'aes-256-gcm') throw bad('unknown cipher');
  if (!Array.isArray(v.names) || !v.names.every((n: unknown) => typeof n === 'string')) throw bad('bad names');
  for (const f of ['iv', 'tag', 'ciphertext'] as const) if (typeof v[f] !== 'string') throw bad(`no ${f}`);
  if (typeof k.salt !== 'string' || Buffer.from(k.salt, 'base64').length < 16) throw bad('bad salt');
  if (Buffer.from(v.iv, 'base64').length !== 12 || Buffer.from(v.tag, 'base64').length !== 16) throw bad('bad iv or tag');
  return v as StoreEnvelope;
}

const keyOf = (passphrase: string, kdf: KdfParams) => deriveKey(passphrase, Buffer.from(kdf.salt, 'base64'), kdf);

/** What GCM authenticates besides the ciphertext: everything in the file that is not secret. */
function associatedData(e: Pick<StoreEnvelope, 'format' | 'version' | 'kdf' | 'cipher' | 'names'>): Buffer {
  return Buffer.from(JSON.stringify([e.format, e.version, e.kdf.name, e.kdf.N, e.kdf.r, e.kdf.p, e.kdf.salt, e.cipher, e.names]), 'utf8');
}

/** The secrets inside; WrongPassphraseError when authentication fails (wrong passphrase or altered file). */
export function openEnvelope(e: StoreEnvelope, passphrase: string, shown: string, fix: string): Map<string, string> {
  const sealed = { iv: Buffer.from(e.iv, 'base64'), tag: Buffer.from(e.tag, 'base64'), ciphertext: Buffer.from(e.ciphertext, 'base64') };
  const plain = open(keyOf(passphrase, e.kdf), sealed, associatedData(e));
  if (!plain) throw new WrongPassphraseError(`wrong passphrase for ${shown} (or the file was altered); ${fix}`, { path: shown });
  const parsed = JSON.parse(plain.toString('utf8')) as { secrets?: Record<string, unknown> };
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(parsed.secrets ?? {})) if (typeof v === 'string') out.set(k, v);
  return out;
}

/**
 * A new envelope for `secrets`. Keeps the salt and parameters of `previous` (the derived key is
 * cached, so a set costs one scrypt run), or starts with a fresh salt and the defaults.
 */
export function sealEnvelope(secrets: Map<string, string>, passphrase: string, previous: StoreEnvelope | null): StoreEnvelope {
  const kdf: KdfParams = previous?.kdf ?? { name: 'scrypt', ...DEFAULT_KDF, salt: randomBytes(16).toString('base64') };
  const names = [...secrets.keys()].sort();
  const head = { format: STORE_FORMAT as typeof STORE_FORMAT, version: 1 as const, kdf, cipher: 'aes-256-gcm' as const, names };
  const body = JSON.stringify({ secrets: Object.fromEntries(names.map((n) => [n, secrets.get(n)!])) });
  const { iv, tag, ciphertext } = seal(keyOf(passphrase, kdf), Buffer.from(body, 'utf8'), associatedData(head));
  return { ...head, iv: iv.toString('base64'), tag: tag.toString('base64'), ciphertext: ciphertext.toString('base64') };
}
