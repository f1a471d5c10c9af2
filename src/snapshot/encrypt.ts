// An encrypted snapshot: the whole .tar.gz sealed with AES-256-GCM under a key from scrypt of a
// passphrase. Layout: MAGIC, then version, log2(N), r, p (one byte each), a 16-byte salt and a
// 12-byte IV (the header, authenticated as GCM's associated data), the ciphertext, and the 16-byte
// tag. A wrong passphrase and an altered file fail the same authentication, before any byte of
// the archive is used.
import { randomBytes } from 'node:crypto';
import { deriveKey, newIv, open, scryptParamsInRange, seal } from '../crypto/passphrase-aead.ts';
import { InvalidSnapshotError, WrongPassphraseError } from '../errors.ts';

/** The first bytes of an encrypted snapshot (a plain one starts with gzip's 1f 8b). */
export const MAGIC = Buffer.from('ORCHESTRATOR-SNAPSHOT-AES\n', 'latin1');
const VERSION = 1;
const HEADER = MAGIC.length + 4 + 16 + 12;
const TAG = 16;

/**
 * scrypt N=2^15, r=8, p=1 (32 MiB): an export or import is a rare, deliberate command, so it can
 * afford twice the cost of the interactive-login setting. The header records the parameters.
 */
const KDF = { log2N: 15, r: 8, p: 1 };

export function isEncrypted(bytes: Buffer): boolean {
  return bytes.length >= MAGIC.length && bytes.subarray(0, MAGIC.length).equals(MAGIC);
}

export function encryptSnapshot(plain: Buffer, passphrase: string): Buffer {
  const salt = randomBytes(16);
  const iv = newIv();
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION, KDF.log2N, KDF.r, KDF.p]), salt, iv]);
  const sealed = seal(deriveKey(passphrase, salt, { N: 2 ** KDF.log2N, r: KDF.r, p: KDF.p }), plain, header, iv);
  return Buffer.concat([header, sealed.ciphertext, sealed.tag]);
}

/** The .tar.gz inside; WrongPassphraseError when authentication fails. `how` says how to give the right one. */
export function decryptSnapshot(sealed: Buffer, passphrase: string, shown: string, how: string): Buffer {
  const bad = (why: string) => new InvalidSnapshotError(`${shown}: not a valid encrypted snapshot (${why}); export it again with orchestrator snapshot export`);
  if (sealed.length < HEADER + TAG) throw bad('too short');
  let at = MAGIC.length;
  const [version, log2N, r, p] = [sealed[at++]!, sealed[at++]!, sealed[at++]!, sealed[at++]!];
  if (version !== VERSION) throw bad(`format version ${version} is not one this orchestrator reads; upgrade orchestrator`);
  const params = { N: 2 ** log2N, r, p };
  if (log2N < 10 || !scryptParamsInRange(params)) throw bad('key derivation parameters out of range');
  const salt = sealed.subarray(at, at + 16);
  const iv = sealed.subarray(at + 16, at + 28);
  const body = { iv, ciphertext: sealed.subarray(HEADER, sealed.length - TAG), tag: sealed.subarray(sealed.length - TAG) };
  const plain = open(deriveKey(passphrase, salt, params), body, sealed.subarray(0, HEADER));
  if (!plain) throw new WrongPassphraseError(`wrong passphrase for ${shown} (or the file was altered); ${how}`, { path: shown });
  return plain;
}
